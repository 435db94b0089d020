"""teemedpins against the library's own counters: live pinned pages,
buffers and calls, high-water marks; the leak alarm from a fake VMM."""

import os
import subprocess
import time

import pytest
import teemed
from conftest import Tool, bpftool_dump, parse_docs, tool, clean_env, PIN_ROOT
from drive import abandon_call, known_sequence

N_FAST, M_YIELD, K_PAGES = 50, 10, 8
LEAKED = "VM_LEAKED"  # enum vm_state: bpftool prints the name
DESTROYED = "VM_DESTROYED"


def vm_rows(dump, pid):
    rows = {}
    for e in dump:
        e = e.get("formatted", e)
        if e["key"]["pid"] == pid:
            rows[e["key"]["client_id"]] = e["value"]
    return rows


def split(out):
    docs = parse_docs(out)
    alarms = [d["alarm"] for d in docs if "alarm" in d]
    tables = [d for d in docs if "vms" in d]
    return alarms, tables


def test_pins_equal_library(bpf):
    seen = {}

    def mid(g):
        # K pages registered, nothing else pinned: live figures, as bpftool
        # reads them from the pinned map
        time.sleep(0.2)
        st = g.vm.stats()
        row = vm_rows(bpftool_dump(f"{PIN_ROOT}/teemedpins/vms"), os.getpid())[g.vm.client_id]
        seen[g.vm.label] = (st, row)

    t = Tool("teemedpins", "-p", os.getpid(), "-j", "--check")
    try:
        be = teemed.ModelBackend()
        g1 = known_sequence(be, 201, N_FAST, M_YIELD, K_PAGES, on_pinned=mid)
        g2 = known_sequence(be, 202, N_FAST, M_YIELD, K_PAGES * 3, on_pinned=mid)
        # a call left suspended, its temporary buffer pinned: unwound at destroy
        abandon_call(g2, pages=5)
        time.sleep(0.2)
        live = vm_rows(bpftool_dump(f"{PIN_ROOT}/teemedpins/vms"), os.getpid())
        st2_live = g2.vm.stats()
        final = {}
        for g in (g1, g2):
            g.vm.close()
            final[g.vm.client_id] = (g.vm.label, g.vm.stats())
        time.sleep(0.2)
    finally:
        rc, out, err = t.stop()
    assert rc == 0, (out, err)  # --check: no leak

    for label, (st, row) in seen.items():
        assert row["pages"] == st["pinned_pages"] > 0
        assert row["buffers"] == st["shm_buffers"] + st["rpc_buffers"] == 1
        assert row["calls"] == st["live_calls"] == 0
        assert row["lib_total"] == st["pinned_pages"]
        assert row["label"] == label
    # the suspended call: its pages and itself are live
    row = live[g2.vm.client_id]
    assert row["pages"] == st2_live["pinned_pages"] > 0
    assert row["calls"] == st2_live["live_calls"] >= 1

    alarms, tables = split(out)
    assert alarms == []
    vms = {v["client_id"]: v for v in tables[-1]["vms"] if v["pid"] == os.getpid()}
    assert set(vms) == set(final)
    for client, (label, st) in final.items():
        v = vms[client]
        assert v["state"] == "destroyed" and v["label"] == label
        assert v["pins"] == st["pins"] and v["unpins"] == st["unpins"]
        assert v["pages"] == st["pinned_pages"] == 0
        assert v["pages_max"] == st["pinned_pages_max"]
        assert v["calls"] == 0 and v["calls_max"] == st["live_calls_max"]
        assert v["buffers"] == 0 and v["buffers_max"] >= 1
        assert v["leaked_pages"] == st["leaked_pages"] == 0
    s = tables[-1]["summary"]
    assert s["vms_created"] == s["vms_destroyed"] == 2 and s["vms_leaked"] == 0


def run_fake_vmm(*tool_args):
    """The fake VMM fires a leaking sequence under teemedpins; returns the
    tool's (rc, out, err) and the pinned map as bpftool saw it meanwhile."""
    fake = subprocess.Popen([tool("teemed_fake_vmm")], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, env=clean_env())
    try:
        assert "ready" in fake.stdout.readline()
        t = Tool("teemedpins", "-p", fake.pid, "-j", *tool_args)
        try:
            fake.stdin.write("go\n")
            fake.stdin.flush()
            assert "fired" in fake.stdout.readline()
            time.sleep(0.3)
            dump = bpftool_dump(f"{PIN_ROOT}/teemedpins/vms")
        finally:
            fake.stdin.write("bye\n")
            fake.stdin.flush()
            fake.wait(10)
            rc, out, err = t.stop()
    finally:
        if fake.poll() is None:
            fake.kill()
    return rc, out, err, vm_rows(dump, fake.pid)


def test_leak_alarm_and_check(bpf):
    rc, out, err, rows = run_fake_vmm("--check")
    assert rc == 2, (out, err)  # --check: a leak is the exit status
    assert "leak alarm" in err
    alarms, tables = split(out)
    assert len(alarms) == 1
    a = alarms[0]
    assert (a["source"], a["client_id"], a["label"], a["pages"], a["buffers"]) == \
        ("library", 11, 100, 2, 1)
    vms = {v["client_id"]: v for v in tables[-1]["vms"]}
    assert vms[11]["state"] == "LEAKED" and vms[11]["leaked_pages"] == 2
    assert vms[11]["pages_max"] == 6 and vms[11]["calls_max"] == 1
    assert vms[12]["state"] == "destroyed" and vms[12]["leaked_pages"] == 0
    assert tables[-1]["summary"]["vms_leaked"] == 1
    # bpftool reads the same from the pinned map
    assert rows[11]["state"] == LEAKED and rows[11]["leaked_pages"] == 2
    assert rows[12]["state"] == DESTROYED


def test_leak_alarm_text(bpf):
    rc, out, err, _ = run_fake_vmm()
    assert rc == 0  # without --check a leak is reported, not an error
    # the text form of the alarm, from a second run, without the SMC probes
    # (-C: pins only) which the leak check does not need:
    fake = subprocess.Popen([tool("teemed_fake_vmm")], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, env=clean_env())
    fake.stdout.readline()
    t = Tool("teemedpins", "-p", fake.pid, "--check", "-C")
    fake.stdin.write("go\n")
    fake.stdin.flush()
    fake.stdout.readline()
    time.sleep(0.3)
    fake.stdin.write("bye\n")
    fake.stdin.flush()
    fake.wait(10)
    rc, out, err = t.stop()
    assert rc == 2
    alarm = [line for line in out.splitlines() if "ALARM" in line]
    assert len(alarm) == 1
    assert "VM 11" in alarm[0] and "2 pages in 1 buffers still pinned" in alarm[0]
    assert "LEAKED" in out


@pytest.mark.parametrize("pid_filter", [True, False])
def test_cpp_driver(bpf, pid_filter):
    """The C++ driver (libteemed release build + the model): three VMs live
    at once, both tools attached, their figures against VmStats."""
    drive = subprocess.Popen([tool("teemed_drive"), "seq", "3", "200", "20", "16"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                             env=clean_env())
    assert "ready" in drive.stdout.readline()
    sel = ["-p", drive.pid] if pid_filter else ["-b", tool("teemed_drive")]
    lat = Tool("teemedlat", "-j", "-T", *sel)
    pins = Tool("teemedpins", "-j", "--check", *sel)
    try:
        drive.stdin.write("go\n")
        drive.stdin.flush()
        text = ""
        while not text.rstrip().endswith("]}"):
            text += drive.stdout.readline()
        lib = {v["client_id"]: v for v in parse_docs(text)[0]["vms"]}
        time.sleep(0.3)
    finally:
        drive.stdin.write("bye\n")
        drive.stdin.flush()
        drive.wait(10)
        lrc, lout, lerr = lat.stop()
        prc, pout, perr = pins.stop()
    assert lrc == 0 and prc == 0, (lerr, perr)
    lat_vms = {v["client_id"]: v for v in parse_docs(lout)[0]["vms"] if v["pid"] == drive.pid}
    _, tables = split(pout)
    pin_vms = {v["client_id"]: v for v in tables[-1]["vms"] if v["pid"] == drive.pid}
    assert set(lat_vms) == set(pin_vms) == set(lib) and len(lib) == 3
    from test_teemedlat import assert_matches_library
    for client, st in lib.items():
        assert_matches_library(lat_vms[client], st)
        v = pin_vms[client]
        assert (v["pins"], v["unpins"], v["pages_max"], v["calls_max"]) == \
            (st["pins"], st["unpins"], st["pinned_pages_max"], st["live_calls_max"])
        assert v["pages"] == 0 and v["state"] == "destroyed" and v["label"] == st["label"]
