"""Every function id of optee_smc.h, as a guest sees it through the
mediator (Documentation/function-ids.md)."""

import pytest

import optee as o


def test_uid_revision_and_os_ids(guest):
    out = guest.smc(o.CALLS_UID)
    assert out[:4] == [0x384FB3E0, 0xE7F811E3, 0xAF630002, 0xA5D5C51B]
    assert guest.smc(o.CALLS_REVISION)[:2] == [2, 0]
    assert guest.smc(o.GET_OS_UUID)[:4] == [0x486178E0, 0xE7F811E3, 0xBC5E0002, 0xA5D5C51B]
    assert guest.smc(o.GET_OS_REVISION)[:2] == [4, 5]
    # not forwarded (the kernel refuses it): answered UNKNOWN_FUNCTION
    assert guest.smc(o.CALLS_COUNT)[0] == o.RETURN_UNKNOWN_FUNCTION


def test_registers_x4_to_x7_preserved(guest):
    out = guest.vm.smc([o.CALLS_UID, 9, 9, 9, 0x44, 0x55, 0x66, 0x77])
    assert out[4:] == [0x44, 0x55, 0x66, 0x77]


def test_exchange_capabilities_masked(guest):
    out = guest.smc(o.EXCHANGE_CAPABILITIES, 0)
    assert out[0] == o.RETURN_OK
    caps = out[1]
    assert caps & o.SEC_CAP_DYNAMIC_SHM
    assert caps & o.SEC_CAP_MEMREF_NULL
    assert caps & o.SEC_CAP_RPC_ARG and out[3] == 4
    # never shown to a guest
    for bit in (o.SEC_CAP_VIRTUALIZATION, o.SEC_CAP_HAVE_RESERVED_SHM,
                o.SEC_CAP_ASYNC_NOTIF, o.SEC_CAP_UNREGISTERED_SHM, o.SEC_CAP_RPMB_PROBE):
        assert not caps & bit
    assert out[2] == 0  # no notification values
    # the uniprocessor bit is the only normal-world capability
    assert guest.smc(o.EXCHANGE_CAPABILITIES, 1)[0] == o.RETURN_OK


@pytest.mark.parametrize("nsec", [2, 0x80000000, 1 << 40])
def test_exchange_capabilities_unknown_nsec(guest, nsec):
    assert guest.smc(o.EXCHANGE_CAPABILITIES, nsec)[0] == o.RETURN_ENOTAVAIL


def test_exchange_capabilities_without_rpc_arg():
    import teemed
    from guest import Guest
    be = teemed.ModelBackend(rpc_arg=False)
    g = Guest(be)
    out = g.smc(o.EXCHANGE_CAPABILITIES, 0)
    assert not out[1] & o.SEC_CAP_RPC_ARG and out[3] == 0
    # and a guest trying anyway is told the call does not exist
    p = g.page()
    assert g.smc(o.CALL_WITH_RPC_ARG, 0, p)[0] == o.RETURN_UNKNOWN_FUNCTION
    g.vm.close()


def test_thread_count_capped_by_vm_limit(backend):
    import teemed
    from guest import Guest
    lim = teemed.Limits()
    lim.max_calls_per_vm = 3
    g = Guest(backend, limits=lim)
    out = g.smc(o.GET_THREAD_COUNT)
    assert out[:2] == [o.RETURN_OK, 3]
    g.vm.close()
    g = Guest(backend)
    assert g.smc(o.GET_THREAD_COUNT)[:2] == [o.RETURN_OK, 8]  # OP-TEE's own
    g.vm.close()


def test_shm_config_not_available(guest):
    assert guest.smc(o.GET_SHM_CONFIG)[:4] == [o.RETURN_ENOTAVAIL, 0, 0, 0]


@pytest.mark.parametrize("fid", [o.VM_CREATED, o.VM_DESTROYED])
def test_guest_cannot_manage_vms(guest, backend, fid):
    before = backend.stats()["guests"]
    # a guest naming another client id, or its own
    for cid in (0, 1, guest.vm.client_id, 99):
        assert guest.smc(fid, cid)[0] == o.RETURN_ENOTAVAIL
    assert backend.stats()["guests"] == before
    assert guest.vm.stats()["rejected"] == 4


def test_boot_secondary_refused(guest):
    assert guest.smc(o.BOOT_SECONDARY, 1, 0, 0x40000000)[0] == o.RETURN_ENOTAVAIL


@pytest.mark.parametrize("fid", [o.L2CC_MUTEX, o.ENABLE_ASYNC_NOTIF, o.GET_ASYNC_NOTIF_VALUE,
                                 o.fast(50, 20), o.fast(50, 0xFFFF), o.fast(63, 0xFF02),
                                 o.fast(48, 0), o.fast(49, 5),
                                 o.GET_OS_UUID | 0x40000000,      # SMC64 variant
                                 o.CALL_WITH_ARG | 0x40000000,
                                 o.std(0), o.std(17), o.std(20), (48 << 24) | 1])
def test_unknown_ids(guest, fid):
    assert guest.smc(fid, 1, 2, 3)[0] == o.RETURN_UNKNOWN_FUNCTION


def test_shm_cache_busy_while_call_in_flight(guest):
    hold = []

    def hook(out):
        if out[0] == o.RPC_CMD and not hold:
            hold.append(out)
            # while suspended: the cache cannot be switched
            assert guest.smc(o.ENABLE_SHM_CACHE)[0] == o.RETURN_EBUSY
            assert guest.smc(o.DISABLE_SHM_CACHE)[0] == o.RETURN_EBUSY
        return None

    guest.rpc_hook = hook
    a0, res = guest.open_session()
    assert res.ret == o.TEEC_SUCCESS and hold
