"""Where BPF is unavailable the tests skip, saying why; with
TEEMED_REQUIRE_BPF=1 (CI) the same run fails instead. Checked by running
one test as an unprivileged user."""

import os
import shutil
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv"),
                    reason="needs root and setpriv to drop to an unprivileged user")
@pytest.mark.parametrize("require", ["0", "1"])
def test_skip_or_fail_without_bpf(require):
    env = dict(os.environ, TEEMED_REQUIRE_BPF=require)
    r = subprocess.run(["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups",
                        sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rs",
                        os.path.join(HERE, "test_teemedlat.py") + "::test_per_event_mode"],
                       capture_output=True, text=True, env=env, cwd="/")
    if require == "1":
        assert r.returncode != 0, r.stdout
        assert "TEEMED_REQUIRE_BPF=1" in r.stdout
    else:
        assert r.returncode == 0, r.stdout + r.stderr
        assert "1 skipped" in r.stdout and "BPF unavailable: not root" in r.stdout
