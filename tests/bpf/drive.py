"""Known sequences through the real library (the pybind11 module and the
OP-TEE model), for the eBPF tools' tests."""

import optee as o
from guest import Guest

FAST_FIDS = {o.CALLS_COUNT, o.CALLS_UID, o.CALLS_REVISION, o.GET_OS_UUID, o.GET_OS_REVISION,
             o.EXCHANGE_CAPABILITIES, o.GET_THREAD_COUNT, o.GET_SHM_CONFIG}
START_FIDS = {o.CALL_WITH_ARG, o.CALL_WITH_RPC_ARG, o.CALL_WITH_REGD_ARG}
UNKNOWN_STD_FID = (50 << 24) | 0xFF  # no such yielding call: the mediator refuses it


class Abandon(Exception):
    """Raised from an RPC hook: the guest walks away from a suspended call."""


def known_sequence(backend, label, n_fast, m_yield, k_pages, on_pinned=None):
    """N fast calls, M yielding calls (INVOKE add, plus the open, an echo with
    temporary memrefs and the close), one K-page registered buffer pinned and
    freed, one refused SMC. on_pinned(guest) runs while the K pages are pinned.
    Returns the Guest; its VM is still open."""
    g = Guest(backend, label=label)
    for _ in range(n_fast):
        g.smc(o.GET_OS_REVISION)
    a0, res = g.open_session()
    assert (a0, res.ret) == (o.RETURN_OK, o.TEEC_SUCCESS)
    sess = res.session
    for i in range(m_yield):
        a0, res = g.invoke(sess, o.TA_ADD, [[o.ATTR_VALUE_INPUT, i, 1, 0],
                                            [o.ATTR_VALUE_OUTPUT, 0, 0, 0]])
        assert (a0, res.ret, res.params[1][1]) == (o.RETURN_OK, o.TEEC_SUCCESS, i + 1)
    data = bytes(range(256)) * 24  # 6 KiB: two pages each way, temporarily pinned
    inp, size, _ = g.make_buffer(data, offset=64)
    outp, _, _ = g.make_buffer(bytes(len(data)))
    a0, res = g.invoke(sess, o.TA_ECHO, [[o.ATTR_TMEM_INPUT | o.ATTR_NONCONTIG, inp, size, 0],
                                         [o.ATTR_TMEM_OUTPUT | o.ATTR_NONCONTIG, outp, size, 0]])
    assert (a0, res.ret) == (o.RETURN_OK, o.TEEC_SUCCESS)
    a0, res, cookie = g.register_shm(bytes(k_pages * o.PAGE))
    assert (a0, res.ret) == (o.RETURN_OK, o.TEEC_SUCCESS)
    if on_pinned:
        on_pinned(g)
    a0, res = g.unregister_shm(cookie)
    assert (a0, res.ret) == (o.RETURN_OK, o.TEEC_SUCCESS)
    assert g.smc(UNKNOWN_STD_FID)[0] == o.RETURN_UNKNOWN_FUNCTION
    a0, res = g.close_session(sess)
    assert a0 == o.RETURN_OK
    return g


def abandon_call(g, pages=3):
    """Leave a yielding call suspended in OP-TEE with a temporary memref of
    `pages` pages pinned: the library must unwind it at destroy."""
    a0, res = g.open_session()
    sess = res.session
    buf, size, _ = g.make_buffer(bytes(pages * o.PAGE))

    def hook(out):
        raise Abandon()
    g.rpc_hook = hook
    # the interrupt must reach the guest, which then never resumes it
    g.vm.set_foreign_intr_budget(0)
    try:
        g.invoke(sess, o.TA_FOREIGN_INTR, [[o.ATTR_TMEM_INPUT | o.ATTR_NONCONTIG, buf, size, 0]])
    except Abandon:
        pass
    g.rpc_hook = None
    return sess
