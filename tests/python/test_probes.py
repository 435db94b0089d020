"""The USDT probes the eBPF tools attach to must be in the library."""

import os
import subprocess

import teemed

PROBES = {"smc_entry", "smc_exit", "backend_enter", "backend_exit", "pin", "unpin",
          "vm_create", "vm_destroy"}


def test_usdt_notes_present():
    out = subprocess.run(["readelf", "-n", teemed.__file__], capture_output=True, text=True,
                         check=True).stdout
    found = set()
    provider = None
    for line in out.splitlines():
        line = line.strip()
        if line.startswith("Provider:"):
            provider = line.split()[1]
        elif line.startswith("Name:") and provider == "teemed":
            found.add(line.split()[1])
    assert PROBES <= found, PROBES - found
