#!/usr/bin/env python3
"""Per-side xtest summary of an e2e console log: lines prefixed "guest| "
are the guest's, the others the host's. Exit 1 if any side failed or ran
no test case."""

import os
import re
import sys

CASES = re.compile(r"(\d+) test cases? of which (\d+) failed")
SUBTESTS = re.compile(r"(\d+) subtests? of which (\d+) failed")
STEP_END = re.compile(r"TEEMED-STEP \d+ END rc=(\d+) secs=([\d.]+)")


def main(path):
    sides = {"host": {"cases": [], "sub": [], "secs": 0.0},
             "guest": {"cases": [], "sub": [], "secs": 0.0}}
    guest_runs = []  # (cases, failed, secs) of each guest xtest
    failed_tests = {"host": [], "guest": []}
    drills = []
    guest_cpus = []  # each guest's vCPUs, as its /init saw them
    with open(path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\r\n")
            side = "host"
            if line.startswith("guest| "):
                side, line = "guest", line[len("guest| "):]
            m = CASES.search(line)
            if m:
                sides[side]["cases"].append((int(m[1]), int(m[2])))
            m = SUBTESTS.search(line)
            if m:
                sides[side]["sub"].append((int(m[1]), int(m[2])))
            m = STEP_END.search(line)
            if m and side == "guest":
                sides["guest"]["secs"] += float(m[2])
                if sides["guest"]["cases"]:
                    c, f = sides["guest"]["cases"][-1]
                    guest_runs.append((c, f, float(m[2])))
            m = re.search(r"TEEMED-BOOT .*cpus=(\d+)", line)
            if m and side == "guest":
                guest_cpus.append(int(m[1]))
            m = re.search(r"TEEMED-DRILL (\S+) (pass|fail) ?(.*)", line)
            if m:
                drills.append(m.groups())
            # teemed-par prefixes each process's lines with "[xtest N] ".
            if re.match(r"^(\[xtest \d+\] )?\s*regression_\d+ FAILED", line) or \
                    " FAILED first error" in line:
                failed_tests[side].append(line.strip())
    ok = True
    for side, s in sides.items():
        runs = len(s["cases"])
        cases = sum(c for c, _ in s["cases"])
        cfail = sum(f for _, f in s["cases"])
        sub = sum(c for c, _ in s["sub"])
        sfail = sum(f for _, f in s["sub"])
        state = "PASS" if runs and not cfail and not sfail else "FAIL"
        ok &= state == "PASS"
        print(f"e2e {side:5}: {state} xtest runs={runs} cases={cases} failed={cfail} "
              f"subtests={sub} failed={sfail}"
              + (f" guest-xtest-secs={s['secs']:.1f}" if side == "guest" else ""))
        for t in failed_tests[side][:20]:
            print(f"    {side}: {t}")
        if side == "guest" and len(guest_runs) > 1:
            for i, (c, f, secs) in enumerate(guest_runs, 1):
                print(f"    guest run {i}: cases={c} failed={f} xtest-secs={secs:.1f}")
    # E2E_GUEST_CPUS: each guest must have booted with that many vCPUs.
    want = os.environ.get("E2E_GUEST_CPUS")
    if want and guest_cpus:
        state = "PASS" if all(c == int(want) for c in guest_cpus) else "FAIL"
        ok &= state == "PASS"
        print(f"e2e guest vCPUs: {state} {guest_cpus} (wanted {want})")
    for name, state, details in drills:
        print(f"e2e drill {name}: {state.upper()} {details}")
        ok &= state == "pass"
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
