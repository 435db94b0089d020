"""teemedlat against the library's own counters: every SMC the library
counts, the tool counts, per VM and function id, exactly."""

import gc
import os
import time

import optee as o
import pytest
import teemed
from conftest import Tool, bpftool_dump, parse_docs, PIN_ROOT
from drive import FAST_FIDS, START_FIDS, UNKNOWN_STD_FID, known_sequence

N_FAST, M_YIELD, K_PAGES = 300, 25, 8


def by_client(doc):
    return {vm["client_id"]: vm for vm in doc["vms"] if vm["pid"] == os.getpid()}


def count(vm, fids=None):
    return sum(c["count"] for c in vm["calls"] if fids is None or c["fid"] in fids)


def assert_matches_library(vm, st):
    """The tool's figures of one VM equal the library's VmStats."""
    assert count(vm, FAST_FIDS) == st["fast_calls"]
    assert count(vm, START_FIDS) == st["yielding_calls"]
    assert count(vm, {o.RETURN_FROM_RPC}) == st["rpc_returns"]
    assert sum(c["rpc_out"] for c in vm["calls"]) == st["rpcs"]
    assert sum(b["count"] for b in vm["backend"]) == st["backend_calls"]
    assert sum(b["errors"] for b in vm["backend"]) == st["backend_errors"]
    for c in vm["calls"]:
        stages = c["stages"]
        # every completed SMC has a total and a mediation time, and lands in
        # exactly one histogram bucket of each
        assert stages["total"]["n"] == stages["vmm"]["n"] == c["count"]
        assert sum(stages["total"]["hist"]) == c["count"]
        assert sum(stages["vmm"]["hist"]) == c["count"]
        assert stages["backend"]["n"] <= c["count"]
        assert sum(stages["backend"]["hist"]) == stages["backend"]["n"]
        # no tee_vm tracepoints, no KVM vCPU here
        assert stages["secure"]["n"] == 0 and stages["guest"]["n"] == 0
        assert stages["total"]["sum_ns"] >= stages["vmm"]["sum_ns"]


def test_counts_equal_library(bpf):
    t = Tool("teemedlat", "-p", os.getpid(), "-j", "-n")
    try:
        be = teemed.ModelBackend()
        g1 = known_sequence(be, 101, N_FAST, M_YIELD, K_PAGES)
        g2 = known_sequence(be, 102, N_FAST // 3, M_YIELD * 2, K_PAGES * 2)
        # The pinned maps while the tool runs: what bpftool reads.
        time.sleep(0.2)
        dump = bpftool_dump(f"{PIN_ROOT}/teemedlat/calls")
        stats = {}
        for g in (g1, g2):
            g.vm.close()  # destroy: its unwinding backend calls count too
            stats[g.vm.client_id] = (g.vm.label, g.vm.stats())
        time.sleep(0.2)
    finally:
        rc, out, err = t.stop()
    assert rc == 0, err
    docs = parse_docs(out)
    assert len(docs) == 1
    vms = by_client(docs[0])
    assert set(vms) == set(stats)
    for client, (label, st) in stats.items():
        vm = vms[client]
        assert_matches_library(vm, st)
        fids = {c["fid"]: c for c in vm["calls"]}
        assert fids[o.GET_OS_REVISION]["count"] == (N_FAST if label == 101 else N_FAST // 3)
        assert fids[UNKNOWN_STD_FID]["count"] == 1  # refused, still counted
        assert all(c["label"] == label for c in vm["calls"])

    # bpftool's view of the same map, read without our loader's help
    rows = [e.get("formatted", e) for e in dump]
    for client, (label, st) in stats.items():
        mine = [r for r in rows if r["key"]["pid"] == os.getpid() and
                r["key"]["client_id"] == client]
        assert sum(r["value"]["count"] for r in mine if r["key"]["fid"] in FAST_FIDS) == \
            st["fast_calls"]
        assert sum(r["value"]["count"] for r in mine if r["key"]["fid"] in START_FIDS) == \
            st["yielding_calls"]
    del g1, g2
    gc.collect()


def test_per_event_mode(bpf):
    t = Tool("teemedlat", "-p", os.getpid(), "-e", "-j")
    try:
        be = teemed.ModelBackend()
        g = known_sequence(be, 7, 40, 5, 2)
        st = g.vm.stats()
        time.sleep(0.3)
    finally:
        rc, out, err = t.stop()
    assert rc == 0, err
    events = [e for e in parse_docs(out) if e["client_id"] == g.vm.client_id]
    # one event per guest SMC the library handled
    assert len(events) == st["fast_calls"] + st["yielding_calls"] + st["rpc_returns"] + \
        st["rejected"]
    assert sum(1 for e in events if e["fid"] == o.GET_OS_REVISION) == 40
    assert sum(e["backend_calls"] for e in events) <= st["backend_calls"]
    for e in events:
        assert e["total_ns"] >= e["vmm_ns"] and e["label"] == 7
    g.vm.close()


def test_interval_mode_clears(bpf):
    t = Tool("teemedlat", "-p", os.getpid(), "-j", "-i", "1")
    try:
        be = teemed.ModelBackend()
        g = teemed.Vm(be, teemed.Limits(), 5)
        for burst in range(3):
            for _ in range(50):
                g.smc([o.GET_OS_REVISION])
            time.sleep(1.3)
        st = g.stats()
    finally:
        rc, out, err = t.stop()
    assert rc == 0, err
    docs = parse_docs(out)
    assert len(docs) >= 3  # at least two intervals and the last print
    total = sum(count(vm, {o.GET_OS_REVISION}) for d in docs
                for vm in d["vms"] if vm["client_id"] == g.client_id and vm["pid"] == os.getpid())
    assert total == st["fast_calls"] == 150
    g.close()


def test_vm_filter(bpf):
    be = teemed.ModelBackend()
    a = teemed.Vm(be, teemed.Limits(), 1)
    b = teemed.Vm(be, teemed.Limits(), 2)
    t = Tool("teemedlat", "-p", os.getpid(), "-j", "-c", b.client_id)
    try:
        for _ in range(10):
            a.smc([o.GET_OS_REVISION])
            b.smc([o.GET_OS_UUID])
        time.sleep(0.2)
    finally:
        rc, out, err = t.stop()
    assert rc == 0, err
    vms = by_client(parse_docs(out)[0])
    assert list(vms) == [b.client_id]
    assert count(vms[b.client_id]) == 10
    a.close()
    b.close()


def test_kernel_tracepoints_optional(bpf):
    """Where the kernel lacks tee_vm (this x86 kernel), the tool loads
    without those programs and says nothing about them."""
    has = os.path.isdir("/sys/kernel/tracing/events/tee_vm")
    t = Tool("teemedlat", "-p", os.getpid(), "-T")
    rc, out, err = t.stop()
    assert rc == 0, err
    assert ("tee_vm tracepoints" in err) == has


@pytest.mark.parametrize("tool", ["teemedlat", "teemedpins"])
def test_help(bpf, tool):
    import subprocess
    from conftest import clean_env
    from conftest import tool as path
    r = subprocess.run([path(tool), "--help"], capture_output=True, text=True, env=clean_env())
    assert r.returncode == 0
    assert "EXAMPLES" in r.stdout and "bpftool map dump pinned /sys/fs/bpf/teemed/" in r.stdout
