#!/usr/bin/python3
"""Tracing overhead: library calls/s through the OP-TEE model, with and
without the eBPF tools attached, in one run (alternating, best of rounds).

    overhead.py --tools build/release [--seconds 3] [--rounds 2]

Needs root and BPF, as the tests do."""

import argparse
import os
import re
import signal
import subprocess
import sys
import time


def bench(tools, op, seconds):
    out = subprocess.run([os.path.join(tools, "teemed_drive"), "bench", op, str(seconds)],
                         capture_output=True, text=True, check=True).stdout
    return float(re.search(r"([0-9.]+) calls/s", out).group(1))


def start(tools, name, *args):
    p = subprocess.Popen([os.path.join(tools, name), "-b", os.path.join(tools, "teemed_drive"),
                          *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    line = p.stderr.readline()
    if not line.startswith("Tracing"):
        p.kill()
        sys.exit(f"{name} did not attach: {line}{p.stderr.read()}")
    return p


def stop(p):
    p.send_signal(signal.SIGINT)
    p.wait(30)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tools", required=True)
    ap.add_argument("--seconds", type=float, default=3)
    ap.add_argument("--rounds", type=int, default=2)
    a = ap.parse_args()

    configs = [
        ("no tracing", []),
        ("teemedlat", [("teemedlat", "-T")]),
        ("teemedpins", [("teemedpins", "-q")]),
        ("teemedpins -C", [("teemedpins", "-q", "-C")]),
        ("both", [("teemedlat", "-T"), ("teemedpins", "-q")]),
    ]
    print(f"{'workload':<8} {'configuration':<15} {'calls/s':>12} {'vs none':>9} "
          f"{'per call':>10}")
    for op in ("fast", "yield"):
        best = {}
        for _ in range(a.rounds):
            for name, tools in configs:
                procs = [start(a.tools, t, *args) for t, *args in tools]
                time.sleep(0.5)
                try:
                    rate = bench(a.tools, op, a.seconds)
                finally:
                    for p in procs:
                        stop(p)
                best[name] = max(best.get(name, 0), rate)
        base = best["no tracing"]
        for name, _ in configs:
            r = best[name]
            extra = (1 / r - 1 / base) * 1e9
            print(f"{op:<8} {name:<15} {r:>12.0f} {r / base:>8.1%} "
                  f"{'+%.0f ns' % extra if name != 'no tracing' else '':>10}")


if __name__ == "__main__":
    main()
