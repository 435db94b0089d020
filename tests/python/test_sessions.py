"""Whole protocol flows through the mediator and the OP-TEE model: TA
loading over RPC, SHM allocated by OP-TEE, memrefs translated page by page,
in each of the three ways a guest can pass its argument."""

import pytest

import optee as o
from guest import Guest

MODES = ["plain", "rpc_arg", "regd"]


def regd_kw(g, mode):
    """For CALL_WITH_REGD_ARG: a registered page holding arguments, as
    Linux keeps with RPC_ARG (optee_shm_arg_cache)."""
    if mode != "regd":
        return {}
    if not hasattr(g, "argbuf"):
        a0, res, cookie = g.register_shm(bytes(o.PAGE))
        assert (a0, res.ret) == (o.RETURN_OK, o.TEEC_SUCCESS)
        g.argbuf = cookie
    return {"regd_cookie": g.argbuf}


@pytest.mark.parametrize("mode", MODES)
def test_open_invoke_close(guest, backend, mode):
    kw = regd_kw(guest, mode)
    a0, res = guest.open_session(mode=mode, **kw)
    assert a0 == o.RETURN_OK
    assert (res.ret, res.ret_origin) == (o.TEEC_SUCCESS, o.TEEC_ORIGIN_TEE)
    sess = res.session
    assert sess != 0
    assert backend.stats()["ta_loads"] == 1
    # The TA came over LOAD_TA / SHM_ALLOC / LOAD_TA / SHM_FREE.
    assert o.RPC_CMD in guest.seen_rpcs
    if mode == "plain":
        assert o.RPC_ALLOC in guest.seen_rpcs and o.RPC_FREE in guest.seen_rpcs
    else:
        assert o.RPC_ALLOC not in guest.seen_rpcs
    assert backend.sessions(guest.vm.client_id) == 1

    # value in, value out
    a0, res = guest.invoke(sess, o.TA_ADD, [[o.ATTR_VALUE_INPUT, 40, 2, 0],
                                            [o.ATTR_VALUE_OUTPUT, 0, 0, 0]], mode, **kw)
    assert (a0, res.ret) == (o.RETURN_OK, o.TEEC_SUCCESS)
    assert res.params[1][1] == 42

    # memrefs: bytes must really travel through translated, scattered pages
    data = bytes((i * 13) & 0xFF for i in range(3 * o.PAGE + 123))
    inp, size, pin = guest.make_buffer(data, offset=100)
    outp, _, pout = guest.make_buffer(bytes(len(data)), offset=7)
    a0, res = guest.invoke(sess, o.TA_ECHO, [
        [o.ATTR_TMEM_INPUT | o.ATTR_NONCONTIG, inp, size, 0],
        [o.ATTR_TMEM_OUTPUT | o.ATTR_NONCONTIG, outp, size, 0]], mode, **kw)
    assert (a0, res.ret) == (o.RETURN_OK, o.TEEC_SUCCESS)
    assert res.params[1][2] == len(data)
    assert guest.read_buffer(pout[:-1], 7, len(data)) == data
    # temporary buffers are unpinned once the call completed
    assert guest.vm.stats()["pinned_pages"] == (1 if mode == "regd" else 0)

    a0, res = guest.invoke(sess, o.TA_SUM, [[o.ATTR_TMEM_INPUT | o.ATTR_NONCONTIG, inp, size, 0],
                                            [o.ATTR_VALUE_OUTPUT, 0, 0, 0]], mode, **kw)
    assert res.params[1][1] == sum(data)

    # The host's interrupt: resumed by the mediator within its budget, the
    # guest never sees it; with no budget the guest resumes it.
    a0, res = guest.invoke(sess, o.TA_FOREIGN_INTR, [], mode, **kw)
    assert (a0, res.ret) == (o.RETURN_OK, o.TEEC_SUCCESS)
    assert o.RPC_FOREIGN_INTR not in guest.seen_rpcs
    assert guest.vm.stats()["foreign_intrs_resumed"] == 1
    guest.vm.set_foreign_intr_budget(0)
    a0, res = guest.invoke(sess, o.TA_FOREIGN_INTR, [], mode, **kw)
    assert (a0, res.ret) == (o.RETURN_OK, o.TEEC_SUCCESS)
    assert o.RPC_FOREIGN_INTR in guest.seen_rpcs
    assert guest.vm.stats()["foreign_intrs_resumed"] == 1

    a0, res = guest.invoke(sess, o.TA_RPC_SHM, [[o.ATTR_VALUE_INPUT, 5 * o.PAGE + 9, 0, 0]],
                           mode, **kw)
    assert (a0, res.ret) == (o.RETURN_OK, o.TEEC_SUCCESS)
    # the RPC SHM went back with SHM_FREE and is unpinned
    assert guest.vm.stats()["shm_buffers"] == (1 if mode == "regd" else 0)

    a0, res = guest.close_session(sess, mode, **kw)
    assert (a0, res.ret) == (o.RETURN_OK, o.TEEC_SUCCESS)
    assert backend.sessions(guest.vm.client_id) == 0
    if mode == "regd":
        assert guest.unregister_shm(guest.argbuf)[1].ret == o.TEEC_SUCCESS


def test_only_output_fields_come_back(guest):
    a0, res = guest.open_session()
    sess = res.session
    data = b"abc" * 100
    inp, size, _ = guest.make_buffer(data)
    arg_ipa = guest.page()
    guest.put(arg_ipa, bytes(o.PAGE))
    params = [[o.ATTR_TMEM_INPUT | o.ATTR_NONCONTIG, inp, size, 0x55],
              [o.ATTR_VALUE_OUTPUT, 1, 2, 3]]
    from guest import Arg
    a0, res = guest.call(Arg(o.CMD_INVOKE_COMMAND, params, func=o.TA_SUM, session=sess),
                         arg_ipa=arg_ipa)
    assert a0 == o.RETURN_OK
    # input memref untouched: buf_ptr is still the guest's page list
    # address, never what OP-TEE saw
    assert res.params[0] == [o.ATTR_TMEM_INPUT | o.ATTR_NONCONTIG, inp, size, 0x55]
    assert res.params[1][1] == sum(data)


def test_registered_shm_by_rmem(guest, backend):
    a0, res = guest.open_session()
    sess = res.session
    data = bytes(range(256)) * 40
    a0, res, cookie = guest.register_shm(data, offset=12)
    assert (a0, res.ret) == (o.RETURN_OK, o.TEEC_SUCCESS)
    st = guest.vm.stats()
    assert st["shm_buffers"] == 1
    assert st["pinned_pages"] == (12 + len(data) + o.PAGE - 1) // o.PAGE
    assert backend.registered_shm(guest.vm.client_id) == 1
    a0, res = guest.invoke(sess, o.TA_SUM, [[o.ATTR_RMEM_INPUT, 1000, 5000, cookie],
                                            [o.ATTR_VALUE_OUTPUT, 0, 0, 0]])
    assert res.ret == o.TEEC_SUCCESS
    assert res.params[1][1] == sum(data[1000:6000])
    a0, res = guest.unregister_shm(cookie)
    assert (a0, res.ret) == (o.RETURN_OK, o.TEEC_SUCCESS)
    assert guest.vm.stats()["pinned_pages"] == 0
    assert backend.registered_shm(guest.vm.client_id) == 0
    # a second unregister: no such registration, answered as OP-TEE does
    # (mobj_reg_shm_release_by_cookie(): TEE_ERROR_BAD_PARAMETERS)
    a0, res = guest.unregister_shm(cookie)
    assert res.ret == o.TEEC_ERROR_BAD_PARAMETERS
    guest.close_session(sess)


def test_shm_cache_and_rpc_arg_reuse(guest, backend):
    assert guest.smc(o.ENABLE_SHM_CACHE)[0] == o.RETURN_OK
    a0, res = guest.open_session()
    assert res.ret == o.TEEC_SUCCESS
    # With the cache on, OP-TEE keeps the RPC argument: no FREE came.
    assert o.RPC_FREE not in guest.seen_rpcs
    assert guest.vm.stats()["rpc_buffers"] == 1
    a0, res = guest.close_session(res.session)
    # Disabling hands the cached buffers back one by one.
    out = guest.smc(o.DISABLE_SHM_CACHE)
    assert out[0] == o.RETURN_OK
    cookie = (out[1] << 32) | out[2]
    assert cookie in guest.rpc_pages
    assert guest.vm.stats()["rpc_buffers"] == 0
    assert guest.smc(o.DISABLE_SHM_CACHE)[0] == o.RETURN_ENOTAVAIL


def test_open_unknown_ta(guest):
    a0, res = guest.open_session(uuid=(1, 2))
    assert a0 == o.RETURN_OK
    assert res.ret == o.TEEC_ERROR_BAD_FORMAT or res.ret == o.TEEC_ERROR_ITEM_NOT_FOUND


def test_two_vms_isolated(backend):
    g1, g2 = Guest(backend, label=1, seed=1), Guest(backend, label=2, seed=2)
    assert g1.vm.client_id != g2.vm.client_id
    s1 = g1.open_session()[1].session
    a0, res, cookie = g1.register_shm(b"secret" * 100)
    # g2 cannot use g1's cookie: OP-TEE resolves it in g2's partition
    s2 = g2.open_session()[1].session
    a0, res = g2.invoke(s2, o.TA_SUM, [[o.ATTR_RMEM_INPUT, 0, 600, cookie],
                                       [o.ATTR_VALUE_OUTPUT, 0, 0, 0]])
    assert res.ret == o.TEEC_ERROR_BAD_PARAMETERS
    # nor g1's session
    a0, res = g2.invoke(s1 + 100, o.TA_ADD, [[o.ATTR_VALUE_INPUT, 1, 1, 0],
                                             [o.ATTR_VALUE_OUTPUT, 0, 0, 0]])
    assert res.ret == o.TEEC_ERROR_ITEM_NOT_FOUND
    g1.vm.close()
    g2.vm.close()
    del g1, g2


def test_guest_sees_the_size_op_tee_wrote(guest):
    """OP-TEE rewrites an output memref's size (the size it needs, with
    SHORT_BUFFER): the guest reads OP-TEE's value, not the one it sent,
    while the buffer's address stays the guest's own page list."""
    a0, res = guest.open_session()
    sess = res.session
    data = bytes(range(256)) * 8
    inp, size, _ = guest.make_buffer(data)
    outp, _, _ = guest.make_buffer(bytes(64))
    a0, res = guest.invoke(sess, o.TA_ECHO, [
        [o.ATTR_TMEM_INPUT | o.ATTR_NONCONTIG, inp, size, 0],
        [o.ATTR_TMEM_OUTPUT | o.ATTR_NONCONTIG, outp, 64, 0]])
    assert (a0, res.ret) == (o.RETURN_OK, o.TEEC_ERROR_SHORT_BUFFER)
    assert res.params[1][1:3] == [outp, len(data)]
