"""Fixtures of the eBPF tools' tests: is BPF here, where are the tools, and a
runner that starts a tool, waits until it has attached, and stops it.

The tests need root, bpffs, tracefs and a kernel with BTF and uprobes. When
any is missing they skip, saying which; with TEEMED_REQUIRE_BPF=1 (set by
CI where BPF must work) a skip becomes a failure."""

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "python"))  # guest.py, optee.py
sys.path.insert(0, os.environ.get("TEEMED_PYMOD_DIR", os.path.join(ROOT, "build", "asan")))

TOOLS = os.environ.get("TEEMED_BPF_DIR", os.path.join(ROOT, "build", "asan"))
PIN_ROOT = "/sys/fs/bpf/teemed"


def tool(name):
    return os.path.join(TOOLS, name)


def clean_env():
    """The tools are not ASan-built: keep the sanitizer runtime out of them."""
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    return env


def _mounted(fstype, path):
    with open("/proc/mounts") as f:
        return any(line.split()[1] == path and line.split()[2] == fstype for line in f)


def _bpf_unavailable():
    """Why BPF cannot run here, or None."""
    if os.geteuid() != 0:
        return "not root"
    if not os.path.exists("/sys/kernel/btf/vmlinux"):
        return "kernel without BTF (/sys/kernel/btf/vmlinux)"
    for fstype, path in (("bpf", "/sys/fs/bpf"), ("tracefs", "/sys/kernel/tracing")):
        if not _mounted(fstype, path):
            r = subprocess.run(["mount", "-t", fstype, fstype, path], capture_output=True,
                               text=True)
            if r.returncode:
                return f"cannot mount {fstype} on {path}: {r.stderr.strip()}"
    if not os.path.exists("/sys/bus/event_source/devices/uprobe"):
        return "kernel without uprobes"
    bpftool = shutil.which("bpftool")
    if not bpftool:
        return "bpftool not installed (make bpf-deps)"
    # One real BPF object: the bpf() syscall works and bpffs takes pins.
    pin = f"/sys/fs/bpf/teemed-probe-{os.getpid()}"
    r = subprocess.run([bpftool, "map", "create", pin, "type", "array", "key", "4", "value",
                        "4", "entries", "1", "name", "teemed_probe"], capture_output=True,
                       text=True)
    if r.returncode:
        return f"bpf() refused: {r.stderr.strip()}"
    os.unlink(pin)
    return None


_REASON = "unknown"


@pytest.fixture(scope="session")
def bpf():
    global _REASON
    reason = _bpf_unavailable()
    if reason:
        msg = f"BPF unavailable: {reason}"
        if os.environ.get("TEEMED_REQUIRE_BPF") == "1":
            pytest.fail(msg + " (TEEMED_REQUIRE_BPF=1: this machine must run them)")
        pytest.skip(msg)
    for t in ("teemedlat", "teemedpins", "teemed_fake_vmm", "teemed_drive"):
        if not os.access(tool(t), os.X_OK):
            pytest.fail(f"{tool(t)} not built: run make bpf (or make check-bpf)")
    return True


def parse_docs(text):
    """Every JSON document in text, in order (documents span lines)."""
    dec, docs, i = json.JSONDecoder(), [], 0
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            return docs
        doc, i = dec.raw_decode(text, i)
        docs.append(doc)


class Tool:
    """A tool running in the background; stop() returns (rc, stdout, stderr)."""

    def __init__(self, name, *args, ready_timeout=60):
        self.proc = subprocess.Popen([tool(name), *map(str, args)], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, env=clean_env())
        self.err_lines = []
        self.ready = threading.Event()
        self.out = []
        threading.Thread(target=self._read_err, daemon=True).start()
        threading.Thread(target=self._read_out, daemon=True).start()
        deadline = time.monotonic() + ready_timeout
        while not self.ready.wait(0.1):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.proc.kill()
                self.proc.wait()
                time.sleep(0.2)
                raise AssertionError(f"{name} did not attach: {''.join(self.err_lines)}")

    def _read_err(self):
        for line in self.proc.stderr:
            self.err_lines.append(line)
            if line.startswith("Tracing"):
                self.ready.set()

    def _read_out(self):
        for line in self.proc.stdout:
            self.out.append(line)

    def stop(self, timeout=30):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        rc = self.proc.wait(timeout)
        time.sleep(0.1)  # the reader threads drain the pipes
        return rc, "".join(self.out), "".join(self.err_lines)


def bpftool_dump(path):
    r = subprocess.run(["bpftool", "-j", "map", "dump", "pinned", path], capture_output=True,
                       text=True, env=clean_env())
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)
