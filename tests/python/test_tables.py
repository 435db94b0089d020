"""tables/*.tsv, the one definition the library, the model, the eBPF tools
and the kernel series take the OP-TEE ids and limits from: its numbers
against the ABI as these tests write it (optee.py, independently), and
each fast call handled as the table says."""

import os
import sys

import pytest

import optee as o

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "scripts"))
import tables  # noqa: E402

T = tables.load()
FAST = [r for r in T.smc if int(r["value"], 0) & o.FAST]


def test_numbers_are_the_abi():
    checked = 0
    for r in T.smc + T.returns + T.msg:
        short = tables.short(r["name"])
        alias = {"cmd": "CMD_", "rpc": "RPC_", "rpccmd": "RPC_CMD_"}.get(r.get("kind"), "")
        if r["name"].startswith("OPTEE_SMC_RETURN_"):
            alias = "RETURN_"
        name = alias + short
        if hasattr(o, name):
            want = getattr(o, name)
            if r.get("kind") == "rpc":
                want &= 0xFFFF  # optee.py writes RPCs as the a0 OP-TEE returns
            assert int(r["value"], 0) == want, r["name"]
            checked += 1
    # most of the table is written in optee.py too
    assert checked >= 35


def test_limits_are_the_library_defaults():
    import teemed
    lim = teemed.Limits()
    for r in T.limits:
        if r["where"] == "library" and hasattr(lim, r["name"]):
            assert getattr(lim, r["name"]) == int(r["value"]), r["name"]


@pytest.mark.parametrize("row", FAST, ids=[r["name"] for r in FAST])
def test_fast_call_as_the_table_says(guest, row):
    fid = int(row["value"], 0)
    before = guest.vm.stats()["backend_calls"]
    out = guest.smc(fid)
    reached = guest.vm.stats()["backend_calls"] - before
    if row["library"] == "answer":
        assert reached == 0
        assert out[0] == tables.value(T, "OPTEE_SMC_RETURN_" + row["answer"])
    else:
        # forwarded or mediated: the kernel (here its model) lets it
        # through, and OP-TEE answers
        assert row["kernel"] != "refuse"
        assert reached == 1
        assert out[0] != o.RETURN_UNKNOWN_FUNCTION


def test_unnamed_fast_call_is_unknown(guest):
    for fid in (o.fast(50, 0x7F), o.fast(63, 0xFF02), o.fast(48, 1)):
        assert guest.smc(fid)[0] == o.RETURN_UNKNOWN_FUNCTION


DOCS = os.path.join(os.path.dirname(__file__), "..", "..", "Documentation")


def doc_table(name, first_header):
    """The rows of the Markdown table in Documentation/NAME whose header
    starts with FIRST_HEADER, as lists of cells."""
    rows, inside = [], False
    with open(os.path.join(DOCS, name), encoding="utf-8") as f:
        for line in f:
            if line.startswith("| %s |" % first_header):
                inside = True
                continue
            if inside and not line.startswith("|"):
                break
            if inside and not line.startswith("|---"):
                rows.append([c.strip() for c in line.strip().strip("|").split("|")])
    assert rows, "no table headed %r in %s" % (first_header, name)
    return rows


def test_function_ids_doc_is_the_table():
    rows = {r[0]: r for r in doc_table("function-ids.md", "id")}
    ids = [tables.short(r["name"]) for r in T.smc]
    assert sorted(set(rows) - {n for n in rows if n.startswith("any other")}) == sorted(ids)
    for r in T.smc:
        doc = rows[tables.short(r["name"])]
        lib = "answer " + r["answer"] if r["library"] == "answer" else r["library"]
        assert doc[1:4] == [r["value"], r["kernel"], lib], doc[0]
        if r["library"] == "answer":
            assert doc[4].startswith(r["answer"]), doc[0]


def test_limits_doc_is_the_table():
    lib = {r[0].split("`")[1]: r[1] for r in doc_table("limits.md", "limit") if "`" in r[0]}
    kern = {r[0].strip("`"): r[1] for r in doc_table("limits.md", "kernel limit")}
    kernel_names = {
        "kernel_max_pages": "OPTEE_VM_DEFAULT_MAX_PAGES",
        "kernel_max_per_user": "OPTEE_VM_DEFAULT_MAX_PER_USER",
        "kernel_max_memref": "OPTEE_VM_MAX_MEMREF",
        "kernel_unwind_rounds": "OPTEE_VM_UNWIND_ROUNDS",
    }
    for r in T.limits:
        if r["where"] == "kernel":
            assert kern[kernel_names[r["name"]]] == r["value"], r["name"]
        elif r["name"] == "foreign_intr_budget_us":
            assert int(r["value"]) == 1000 * int(lib["teemed_vm_set_foreign_intr_budget()"].split()[0])
        elif r["name"] == "unwind_rounds":
            assert lib["kUnwindRounds"] == r["value"]
        elif r["where"] == "library":
            assert lib[r["name"]] == r["value"], r["name"]
    assert len(kern) == sum(r["where"] == "kernel" for r in T.limits)
