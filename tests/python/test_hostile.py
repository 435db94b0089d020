"""A malicious guest: every value it controls, wrong. Each case asserts the
exact OP-TEE answer, and the fixtures assert nothing leaked."""

import struct

import pytest

import optee as o
import teemed
from guest import Arg, Guest, arg_size, hi, lo

OUTSIDE = 0x10000000  # below guest RAM (which starts at 0x40000000)


def yielding(guest, ipa, fid=o.CALL_WITH_ARG):
    return guest.smc(fid, hi(ipa), lo(ipa))[0]


@pytest.mark.parametrize("fid", [o.CALL_WITH_ARG, o.CALL_WITH_RPC_ARG])
def test_arg_address(guest, fid):
    p = guest.page()
    guest.put(p, Arg(o.CMD_CANCEL).pack())
    assert yielding(guest, p + 8, fid) == o.RETURN_EBADADDR    # not page aligned
    assert yielding(guest, OUTSIDE, fid) == o.RETURN_EBADADDR  # not guest RAM
    assert yielding(guest, 0, fid) == o.RETURN_EBADADDR
    assert yielding(guest, (1 << 64) - o.PAGE, fid) == o.RETURN_EBADADDR
    end = guest.ipa + guest.ram.size
    assert yielding(guest, end, fid) == o.RETURN_EBADADDR        # just past RAM
    assert guest.vm.stats()["rejected"] == 5


def test_arg_crossing_end_of_ram(guest):
    last = guest.ipa + guest.ram.size - o.PAGE
    # the header fits in the last page, the params would not exist past it:
    # 127 params fit in one page exactly, so use RPC_ARG to overflow
    guest.put(last, Arg(o.CMD_CANCEL, num_params=o.MAX_NUM_PARAMS).pack())
    assert yielding(guest, last, o.CALL_WITH_RPC_ARG) == o.RETURN_EBADADDR


@pytest.mark.parametrize("n", [o.MAX_NUM_PARAMS + 1, 1000, 0xFFFFFFFF])
def test_num_params_overflow(guest, n):
    p = guest.page()
    guest.put(p, Arg(o.CMD_INVOKE_COMMAND, num_params=n).pack())
    assert yielding(guest, p) == o.RETURN_EBADADDR


def test_max_num_params_fits(guest):
    p = guest.page()
    params = [[o.ATTR_VALUE_INPUT, i, i, i] for i in range(o.MAX_NUM_PARAMS)]
    guest.put(p, Arg(o.CMD_INVOKE_COMMAND, params, session=77).pack())
    assert yielding(guest, p) == o.RETURN_OK  # reaches OP-TEE, which answers
    assert Arg.unpack(guest.get(p, arg_size(o.MAX_NUM_PARAMS))).ret == \
        o.TEEC_ERROR_ITEM_NOT_FOUND


@pytest.mark.parametrize("cmd", [o.CMD_DO_BOTTOM_HALF, o.CMD_STOP_ASYNC_NOTIF, 8, 0xFFFFFFFF])
def test_unknown_command(guest, cmd):
    p = guest.page()
    guest.put(p, Arg(cmd).pack())
    assert yielding(guest, p) == o.RETURN_EBADCMD


def bad_param(guest, param, cmd=o.CMD_INVOKE_COMMAND):
    a0, res = guest.call(Arg(cmd, [param], func=o.TA_SUM, session=1))
    return a0, res.ret, res.ret_origin


@pytest.mark.parametrize("param", [
    [o.ATTR_TMEM_INPUT, 0x40001000, 16, 0],                       # contiguous, non-NULL
    [4, 0, 0, 0], [8, 0, 0, 0], [0xC, 0, 0, 0], [0xFF, 0, 0, 0],  # unknown types
    [o.ATTR_VALUE_INPUT | (1 << 12), 0, 0, 0],                    # unknown attr bit
    [o.ATTR_TMEM_INPUT | o.ATTR_META | o.ATTR_NONCONTIG, 0x40001000, 16, 0],
    [o.ATTR_VALUE_INPUT | o.ATTR_NONCONTIG, 1, 2, 3],
    [o.ATTR_RMEM_INPUT | o.ATTR_NONCONTIG, 0, 16, 5],
    [o.ATTR_TMEM_INPUT | o.ATTR_NONCONTIG, OUTSIDE, 16, 0],       # page list outside RAM
    [o.ATTR_TMEM_INPUT | o.ATTR_NONCONTIG, 0x40000000, 0, 0],     # empty non-NULL
])
def test_bad_params(guest, param):
    assert bad_param(guest, param) == (o.RETURN_OK, o.TEEC_ERROR_BAD_PARAMETERS,
                                       o.TEEC_ORIGIN_COMMS)
    assert guest.vm.stats()["pinned_pages"] == 0


def test_null_memref_passes(guest):
    sess = guest.open_session()[1].session
    a0, res = guest.invoke(sess, o.TA_SUM, [[o.ATTR_TMEM_INPUT | o.ATTR_NONCONTIG, 0, 0, 0],
                                            [o.ATTR_VALUE_OUTPUT, 0, 0, 0]])
    assert (a0, res.ret) == (o.RETURN_OK, o.TEEC_SUCCESS)
    assert res.params[1][1:3] == [0, 0]


def page_list(guest, entries, nxt=0):
    lp = guest.page()
    guest.put(lp, struct.pack(f"<{len(entries)}Q", *entries).ljust(511 * 8, b"\0")
              + struct.pack("<Q", nxt))
    return lp


@pytest.mark.parametrize("entry", [OUTSIDE, 0x40000010, 0, (1 << 64) - o.PAGE])
def test_page_list_entries_checked(guest, entry):
    data = guest.page()
    lp = page_list(guest, [data, entry])
    r = bad_param(guest, [o.ATTR_TMEM_INPUT | o.ATTR_NONCONTIG, lp, 2 * o.PAGE, 0])
    assert r[1] == o.TEEC_ERROR_BAD_PARAMETERS


def test_page_list_next_pointer_checked(guest):
    data = guest.page()
    for nxt in (OUTSIDE, 0x40000008):
        lp = page_list(guest, [data] * 511, nxt)
        r = bad_param(guest, [o.ATTR_TMEM_INPUT | o.ATTR_NONCONTIG, lp, 512 * o.PAGE, 0])
        assert r[1] in (o.TEEC_ERROR_BAD_PARAMETERS, o.TEEC_ERROR_OUT_OF_MEMORY)


def test_page_list_that_loops(backend):
    lim = teemed.Limits()
    lim.max_pages_per_buffer = 2000
    g = Guest(backend, limits=lim)
    sess = g.open_session()[1].session
    data = g.page()
    g.put(data, bytes([1]) * o.PAGE)
    lp = g.page()
    # the list's next pointer is itself: a walk must stay bounded
    g.put(lp, struct.pack("<511Q", *([data] * 511)) + struct.pack("<Q", lp))
    size = 1500 * o.PAGE
    a0, res = g.invoke(sess, o.TA_SUM, [[o.ATTR_TMEM_INPUT | o.ATTR_NONCONTIG, lp, size, 0],
                                        [o.ATTR_VALUE_OUTPUT, 0, 0, 0]])
    assert (a0, res.ret) == (o.RETURN_OK, o.TEEC_SUCCESS)
    assert res.params[1][1] == size  # every page the same page of ones
    assert g.vm.stats()["pinned_pages_max"] == 1500
    assert g.vm.stats()["pinned_pages"] == 0
    g.vm.close()


def test_buffer_page_limit(guest):
    lim_pages = teemed.Limits().max_pages_per_buffer
    buf, size, _ = guest.make_buffer(bytes(lim_pages * o.PAGE))
    sess = guest.open_session()[1].session
    ok = guest.invoke(sess, o.TA_SUM, [[o.ATTR_TMEM_INPUT | o.ATTR_NONCONTIG, buf, size, 0],
                                       [o.ATTR_VALUE_OUTPUT, 0, 0, 0]])
    assert ok[1].ret == o.TEEC_SUCCESS
    # one byte more spills into a 130th page
    r = bad_param(guest, [o.ATTR_TMEM_INPUT | o.ATTR_NONCONTIG, buf | 1, size, 0])
    assert r == (o.RETURN_OK, o.TEEC_ERROR_OUT_OF_MEMORY, o.TEEC_ORIGIN_COMMS)
    r = bad_param(guest, [o.ATTR_TMEM_INPUT | o.ATTR_NONCONTIG, buf, 1 << 62, 0])
    assert r[1] == o.TEEC_ERROR_OUT_OF_MEMORY


def test_vm_pin_quota(backend):
    lim = teemed.Limits()
    lim.max_pinned_pages_per_vm = 10
    g = Guest(backend, limits=lim)
    a0, res, c1 = g.register_shm(bytes(6 * o.PAGE))
    assert res.ret == o.TEEC_SUCCESS
    a0, res, c2 = g.register_shm(bytes(5 * o.PAGE))
    assert (a0, res.ret, res.ret_origin) == (o.RETURN_OK, o.TEEC_ERROR_OUT_OF_MEMORY,
                                             o.TEEC_ORIGIN_COMMS)
    assert g.vm.stats()["pinned_pages"] == 6
    a0, res, c2 = g.register_shm(bytes(4 * o.PAGE))
    assert res.ret == o.TEEC_SUCCESS
    assert g.vm.stats()["pinned_pages"] == 10
    assert g.unregister_shm(c1)[1].ret == o.TEEC_SUCCESS
    assert g.unregister_shm(c2)[1].ret == o.TEEC_SUCCESS
    assert g.vm.stats()["pinned_pages"] == 0
    g.vm.close()


def test_buffer_count_limit(guest):
    n = teemed.Limits().max_buffers_per_vm
    cookies = []
    for _ in range(n):
        a0, res, c = guest.register_shm(b"x")
        assert res.ret == o.TEEC_SUCCESS
        cookies.append(c)
    a0, res, c = guest.register_shm(b"x")
    assert res.ret == o.TEEC_ERROR_OUT_OF_MEMORY
    for c in cookies:
        assert guest.unregister_shm(c)[1].ret == o.TEEC_SUCCESS


def test_duplicate_register_cookie(guest, backend):
    a0, res, c = guest.register_shm(b"first")
    a0, res, _ = guest.register_shm(b"second", cookie=c)
    assert (res.ret, res.ret_origin) == (o.TEEC_ERROR_BAD_PARAMETERS, o.TEEC_ORIGIN_COMMS)
    assert guest.vm.stats()["shm_buffers"] == 1
    assert backend.registered_shm(guest.vm.client_id) == 1
    guest.unregister_shm(c)


def test_resume_unknown_thread(guest):
    for t in (0, 1, 7, 8, 1 << 32, (1 << 64) - 1):
        assert guest.smc(o.RETURN_FROM_RPC, 0, 0, t)[0] == o.RETURN_ERESUME
    assert guest.vm.stats()["rejected"] == 6


def test_resume_other_vms_thread(backend):
    g1, g2 = Guest(backend, seed=1), Guest(backend, seed=2)
    held = []

    def hook(out):
        if not held:
            held.append(out)
            # g2 tries to resume g1's suspended thread
            assert g2.smc(o.RETURN_FROM_RPC, out[1], out[2], out[3])[0] == o.RETURN_ERESUME
        return None

    g1.rpc_hook = hook
    assert g1.open_session()[1].ret == o.TEEC_SUCCESS
    assert held
    g1.vm.close(), g2.vm.close()


def open_arg(guest):
    p = guest.page()
    guest.put(p, Arg(o.CMD_OPEN_SESSION, [[o.ATTR_VALUE_INPUT | o.ATTR_META, *o.TA_UUID, 0],
                                          [o.ATTR_VALUE_INPUT | o.ATTR_META, 0, 0, 0]]).pack())
    return p


def test_rpc_alloc_duplicate_cookie(guest):
    """The guest answers RPC ALLOC with a cookie already naming a live RPC
    buffer: the mediator must not let OP-TEE see it (a later FREE of the
    failed allocation would free the live one under the call using it)."""
    pa = open_arg(guest)
    out_a = guest.smc(o.CALL_WITH_ARG, 0, pa)
    assert out_a[0] == o.RPC_ALLOC
    out_a = guest.serve_rpc(out_a, None)  # ALLOC served: cookie live
    assert out_a[0] == o.RPC_CMD
    live = (out_a[1] << 32) | out_a[2]
    assert guest.vm.stats()["rpc_buffers"] == 1

    freed = []

    def hook(out):
        if out[0] == o.RPC_ALLOC:
            p = guest.page()
            return [o.RETURN_FROM_RPC, hi(p), lo(p), out[3], hi(live), lo(live)]
        if out[0] == o.RPC_FREE:
            freed.append((out[1] << 32) | out[2])
        return None

    guest.rpc_hook = hook
    a0, res = guest.open_session()  # a second call, on another thread
    assert (a0, res.ret) == (o.RETURN_OK, o.TEEC_ERROR_OUT_OF_MEMORY)
    assert freed == []  # OP-TEE got no cookie, so it frees none
    assert guest.vm.stats()["rpc_buffers"] == 1
    guest.rpc_hook = None
    # the first call still completes through its intact buffer
    while o.is_rpc(out_a[0]):
        out_a = guest.serve_rpc(out_a, None)
    assert out_a[0] == o.RETURN_OK
    assert Arg.unpack(guest.get(pa, 32 + 64)).ret == o.TEEC_SUCCESS
    assert guest.vm.stats()["rpc_buffers"] == 0


def test_rpc_alloc_cookie_zero(guest):
    """RPC ALLOC answered with a good buffer under cookie 0, which OP-TEE
    never frees: no buffer is given (nothing to leak), OP-TEE fails the call
    as for no memory, and later allocations still work."""
    def hook(out):
        if out[0] == o.RPC_ALLOC:
            p = guest.page()
            return [o.RETURN_FROM_RPC, hi(p), lo(p), out[3], 0, 0]
        return None

    guest.rpc_hook = hook
    a0, res = guest.open_session()
    assert (a0, res.ret) == (o.RETURN_OK, o.TEEC_ERROR_OUT_OF_MEMORY)
    assert guest.vm.stats()["rpc_buffers"] == 0
    guest.rpc_hook = None
    a0, res = guest.open_session()
    assert (a0, res.ret) == (o.RETURN_OK, o.TEEC_SUCCESS)
    guest.close_session(res.session)


def test_regd_arg_without_rpc_arg():
    """CALL_WITH_REGD_ARG when OP-TEE lacks RPC_ARG: there is no such call
    (the guest was not offered it), so UNKNOWN_FUNCTION, as OP-TEE would
    answer, not a CALL_WITH_RPC_ARG on the guest's behalf."""
    from guest import Guest
    be = teemed.ModelBackend(rpc_arg=False)
    g = Guest(be)
    a0, res, c = g.register_shm(bytes(2 * o.PAGE))
    assert (a0, res.ret) == (o.RETURN_OK, o.TEEC_SUCCESS)
    assert g.smc(o.CALL_WITH_REGD_ARG, hi(c), lo(c), 0)[0] == o.RETURN_UNKNOWN_FUNCTION
    assert g.smc(o.CALL_WITH_RPC_ARG, 0, g.page())[0] == o.RETURN_UNKNOWN_FUNCTION
    assert g.unregister_shm(c)[1].ret == o.TEEC_SUCCESS
    g.vm.close()
    assert be.stats()["objects"] == 0


@pytest.mark.parametrize("bad", ["misaligned", "outside", "zero"])
def test_rpc_alloc_bad_buffer(guest, bad):
    freed = []

    def hook(out):
        if out[0] == o.RPC_ALLOC:
            p = {"misaligned": guest.page() + 16, "outside": OUTSIDE, "zero": 0}[bad]
            c = 0xABC
            return [o.RETURN_FROM_RPC, hi(p), lo(p), out[3], hi(c), lo(c)]
        if out[0] == o.RPC_FREE:
            freed.append((out[1] << 32) | out[2])
        return None

    guest.rpc_hook = hook
    a0, res = guest.open_session()
    assert a0 == o.RETURN_OK
    assert res.ret == o.TEEC_ERROR_OUT_OF_MEMORY  # OP-TEE had no RPC argument
    # OP-TEE gave the unusable cookie back through the guest, as it does
    # for any address it cannot use, NULL included (thread_rpc_alloc_arg)
    assert freed == [0xABC]
    assert guest.vm.stats()["rpc_buffers"] == 0


def test_rpc_alloc_refused_before_shm_alloc(guest):
    """The RPC argument of a SHM_ALLOC cannot be allocated (the guest
    answers RPC ALLOC with no buffer): the call fails cleanly. Found by
    fuzz_rpc in the OP-TEE model, which read the missing argument."""
    sess = guest.open_session()[1].session

    def hook(out):
        if out[0] == o.RPC_ALLOC:
            return [o.RETURN_FROM_RPC, 0, 0, out[3], 0, 0]
        return None

    guest.rpc_hook = hook
    a0, res = guest.invoke(sess, o.TA_RPC_SHM, [[o.ATTR_VALUE_INPUT, 3 * o.PAGE, 0, 0]])
    assert (a0, res.ret) == (o.RETURN_OK, o.TEEC_ERROR_OUT_OF_MEMORY)
    assert guest.vm.stats()["shm_buffers"] == 0
    guest.rpc_hook = None


def test_rpc_shm_alloc_hostile_answers(guest):
    sess = guest.open_session()[1].session
    for attr, ptr in [(o.ATTR_TMEM_OUTPUT, 0x40001000),           # contiguous
                      (o.ATTR_TMEM_OUTPUT | o.ATTR_NONCONTIG, OUTSIDE),
                      (o.ATTR_VALUE_OUTPUT, 0)]:
        def hook(out, attr=attr, ptr=ptr):
            if out[0] != o.RPC_CMD:
                return None
            loc = guest.rpc_pages.get((out[1] << 32) | out[2])
            req = Arg.unpack(guest.get(loc, arg_size(4)))
            if req.cmd != o.RPC_CMD_SHM_ALLOC:
                return None
            req.ret = 0
            req.params[0] = [attr, ptr, 8 * o.PAGE, 0x777]
            guest.put(loc, req.pack())
            return [o.RETURN_FROM_RPC, 0, 0, out[3]]
        guest.rpc_hook = hook
        a0, res = guest.invoke(sess, o.TA_RPC_SHM, [[o.ATTR_VALUE_INPUT, 8 * o.PAGE, 0, 0]])
        assert (a0, res.ret) == (o.RETURN_OK, o.TEEC_ERROR_OUT_OF_MEMORY)
        assert guest.vm.stats()["shm_buffers"] == 0
    guest.rpc_hook = None


def test_rpc_answer_changes_request(guest):
    """The guest rewrites the RPC request (cmd, num_params, attrs) in its
    answer: only output fields of the request OP-TEE made are taken."""
    def hook(out):
        if out[0] != o.RPC_CMD:
            return None
        loc = guest.rpc_pages[(out[1] << 32) | out[2]]
        req = Arg.unpack(guest.get(loc, arg_size(4)))
        guest.serve_cmd(req)
        req.cmd = 0x1234
        req.num_params = 4
        req.params = [p for p in req.params] + [[o.ATTR_TMEM_OUTPUT, 0x40000000, 1, 2]] * (4 - len(req.params))
        guest.put(loc, req.pack())
        return [o.RETURN_FROM_RPC, 0, 0, out[3]]

    guest.rpc_hook = hook
    a0, res = guest.open_session()
    assert (a0, res.ret) == (o.RETURN_OK, o.TEEC_SUCCESS)


def test_regd_arg_checks(guest):
    assert guest.smc(o.CALL_WITH_REGD_ARG, 0, 0x999, 0)[0] == o.RETURN_EBADADDR  # unknown
    a0, res, c = guest.register_shm(bytes(o.PAGE))
    for off in (4, o.PAGE - 16, o.PAGE, 1 << 40):
        assert guest.smc(o.CALL_WITH_REGD_ARG, hi(c), lo(c), off)[0] == o.RETURN_EBADADDR
    guest.unregister_shm(c)


def test_calls_after_close(backend):
    g = Guest(backend)
    g.vm.close()
    with pytest.raises(OSError):
        g.smc(o.CALLS_UID)
    g.vm.close()  # idempotent


def test_register_region_checks(backend):
    ram = teemed.GuestRam(4 * o.PAGE)
    vm = teemed.Vm(backend)
    vm.add_region(0x40000000, 2 * o.PAGE, ram.address)
    for ipa, size, va in [(0x40000000, o.PAGE, ram.address),          # overlap
                          (0x40000001, o.PAGE, ram.address),           # unaligned
                          (0x50000000, 0, ram.address),                # empty
                          ((1 << 64) - o.PAGE, 2 * o.PAGE, ram.address)]:  # wraps
        with pytest.raises(OSError):
            vm.add_region(ipa, size, va)
    vm.close()
