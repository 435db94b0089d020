"""VM creation and destruction, OP-TEE's guest limit, calls in flight when
a VM goes, concurrency limits."""

import pytest

import optee as o
import teemed
from guest import Arg, Guest


def test_guest_limit_and_reuse():
    be = teemed.ModelBackend(max_guests=2)
    assert be.register_host()  # the host takes one of OP-TEE's two slots
    g = Guest(be)
    assert g.vm.client_id == 2
    with pytest.raises(OSError) as e:
        teemed.Vm(be)
    assert e.value.errno == 28  # ENOSPC: OP-TEE has no room
    g.vm.close()
    g.vm = None
    g2 = Guest(be)
    assert g2.vm.client_id == 2  # reusable once destroyed
    assert g2.open_session()[1].ret == o.TEEC_SUCCESS
    g2.vm.close()


def test_destroy_with_call_suspended_in_rpc(backend):
    g = Guest(backend)
    sess = g.open_session()[1].session
    a0, res, cookie = g.register_shm(bytes(3 * o.PAGE))
    stop = []

    def hook(out):
        stop.append(out)
        return None

    # Take the TA's SHM_ALLOC RPC and never answer it.
    buf, size, _ = g.make_buffer(bytes(2 * o.PAGE))
    p = g.page()
    g.put(p, Arg(o.CMD_INVOKE_COMMAND, [[o.ATTR_VALUE_INPUT, 3 * o.PAGE, 0, 0],
                                        [o.ATTR_TMEM_INPUT | o.ATTR_NONCONTIG, buf, size, 0]],
                 func=o.TA_RPC_SHM, session=sess).pack())
    out = g.smc(o.CALL_WITH_ARG, 0, p)
    while out[0] != o.RPC_CMD:
        out = g.serve_rpc(out, None)
    st = g.vm.stats()
    assert st["live_calls"] == 1
    assert st["pinned_pages"] == 3 + 2  # registered + the call's temporary
    assert backend.stats()["suspended_threads"] == 1
    g.vm.close()
    st = g.vm.stats()
    assert st["live_calls"] == 0 and st["pinned_pages"] == 0 and st["leaked_pages"] == 0
    bst = backend.stats()
    assert bst["suspended_threads"] == 0
    assert bst["guests"] == 0
    g.vm = None
    assert backend.stats()["objects"] == 0


def test_backend_unwinds_when_library_state_is_lost(backend):
    """What the kernel does for a SIGKILLed VMM: the library never got to
    unwind, the context's own release does."""
    g = Guest(backend)
    p = g.page()
    g.put(p, Arg(o.CMD_OPEN_SESSION, [[o.ATTR_VALUE_INPUT | o.ATTR_META, *o.TA_UUID, 0],
                                      [o.ATTR_VALUE_INPUT | o.ATTR_META, 0, 0, 0]]).pack())
    out = g.smc(o.CALL_WITH_ARG, 0, p)
    assert out[0] == o.RPC_ALLOC
    assert backend.stats()["suspended_threads"] == 1
    g.vm.close()
    assert backend.stats()["suspended_threads"] == 0
    g.vm = None


def test_call_limit_per_vm(backend):
    lim = teemed.Limits()
    lim.max_calls_per_vm = 2
    g = Guest(backend, limits=lim)
    held = []
    for _ in range(2):
        p = g.page()
        g.put(p, Arg(o.CMD_OPEN_SESSION, [[o.ATTR_VALUE_INPUT | o.ATTR_META, *o.TA_UUID, 0],
                                          [o.ATTR_VALUE_INPUT | o.ATTR_META, 0, 0, 0]]).pack())
        out = g.smc(o.CALL_WITH_ARG, 0, p)
        assert out[0] == o.RPC_ALLOC
        held.append(out)
    p = g.page()
    g.put(p, Arg(o.CMD_CANCEL).pack())
    assert g.smc(o.CALL_WITH_ARG, 0, p)[0] == o.RETURN_ETHREAD_LIMIT
    assert g.vm.stats()["live_calls"] == 2
    # finishing one frees a slot
    out = held[0]
    while o.is_rpc(out[0]):
        out = g.serve_rpc(out, None)
    assert out[0] == o.RETURN_OK
    assert g.smc(o.CALL_WITH_ARG, 0, p)[0] == o.RETURN_OK
    g.vm.close()


def test_optee_threads_are_per_partition(backend):
    """NS-virtualized OP-TEE gives each partition CFG_NUM_THREADS of its
    own: a VM holding all of its threads does not starve another VM, and
    its own next call gets ETHREAD_LIMIT."""
    be = teemed.ModelBackend(threads=2)
    g1, g2 = Guest(be, seed=1), Guest(be, seed=2)
    for _ in range(2):
        p = g2.page()
        g2.put(p, Arg(o.CMD_OPEN_SESSION, [[o.ATTR_VALUE_INPUT | o.ATTR_META, *o.TA_UUID, 0],
                                           [o.ATTR_VALUE_INPUT | o.ATTR_META, 0, 0, 0]]).pack())
        assert g2.smc(o.CALL_WITH_ARG, 0, p)[0] == o.RPC_ALLOC
    assert be.stats()["suspended_threads"] == 2
    # g2's partition is full; g1's is not
    p = g2.page()
    g2.put(p, Arg(o.CMD_CANCEL).pack())
    assert g2.smc(o.CALL_WITH_ARG, 0, p)[0] == o.RETURN_ETHREAD_LIMIT
    a0, res = g1.open_session()
    assert (a0, res.ret) == (o.RETURN_OK, o.TEEC_SUCCESS)
    g1.vm.close(), g2.vm.close()
    assert be.stats()["suspended_threads"] == 0


def test_many_vms_churn(backend):
    for i in range(50):
        g = Guest(backend, ram_pages=64, label=i, seed=i)
        assert g.open_session()[1].ret == o.TEEC_SUCCESS
        g.vm.close()
        g.vm = None
    st = backend.stats()
    assert st["contexts"] == 0 and st["objects"] == 0 and st["guests"] == 0


def test_remove_region_waits_for_calls_in_it(guest):
    """A VMM may forget guest RAM (a memory listener's region_del), but
    not while the mediator still has to write an answer there."""
    import errno
    size = 1024 * o.PAGE
    with pytest.raises(OSError) as e:
        guest.vm.remove_region(0x40000000, o.PAGE)  # not a region added
    assert e.value.errno == errno.ENOENT

    class Stop(Exception):
        pass

    def hook(out):
        raise Stop()  # the guest walks away at OP-TEE's first RPC
    guest.rpc_hook = hook
    with pytest.raises(Stop):
        guest.open_session()
    guest.rpc_hook = None
    assert guest.vm.stats()["live_calls"] == 1
    with pytest.raises(OSError) as e:
        guest.vm.remove_region(0x40000000, size)
    assert e.value.errno == errno.EBUSY
    guest.vm.close()  # unwinds the call
    guest.vm.remove_region(0x40000000, size)
    with pytest.raises(OSError) as e:
        guest.vm.remove_region(0x40000000, size)
    assert e.value.errno == errno.ENOENT
