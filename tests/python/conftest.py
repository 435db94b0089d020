import os
import sys

import pytest

HERE = os.path.dirname(__file__)
sys.path.insert(0, HERE)
sys.path.insert(0, os.environ.get("TEEMED_PYMOD_DIR", os.path.join(HERE, "..", "..", "build", "asan")))

import teemed  # noqa: E402


@pytest.fixture
def backend():
    be = teemed.ModelBackend()
    yield be
    # Whatever a test did, once its VMs are gone nothing may stay pinned,
    # allocated or suspended in OP-TEE.
    import gc
    gc.collect()
    # OP-TEE touched only what the kernel gave it, while it had it
    assert be.reports() == []
    st = be.stats()
    assert st["contexts"] == 0
    assert st["objects"] == 0
    assert st["pinned_pages"] == 0
    assert st["phys_pages"] == 0
    assert st["suspended_threads"] == 0


@pytest.fixture
def guest(backend):
    from guest import Guest
    g = Guest(backend)
    yield g
    g.vm.close()
    assert_clean(backend, g)
    g.vm = None  # the context goes with the last reference


def assert_clean(backend, g=None):
    if g is not None:
        st = g.vm.stats()
        assert st["pinned_pages"] == 0
        assert st["live_calls"] == 0
        assert st["shm_buffers"] == 0
        assert st["rpc_buffers"] == 0
        assert st["leaked_pages"] == 0
    bst = backend.stats()
    assert bst["suspended_threads"] == 0
