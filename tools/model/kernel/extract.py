#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""The series' code the harness compiles, as the patched tree has it.

usage: extract.py OUTDIR PATCH...

Writes OUTDIR/smc_vm.c, the file the series creates (the patches applied
in order, with git apply; its trace points are the shim's), and
OUTDIR/tee_vm_ioctl.c, tee_core.c's tee_vm_ioctl() as patch "tee: add
VM-context devices" adds it (the core's part of the VM ioctls: flags, copy
in and out). Nothing is written by hand: a change to the series is a
change to what the tests run.
"""
import os
import re
import subprocess
import sys
import tempfile

NEW_FILES = ['drivers/tee/optee/smc_vm.c']


def added_function(patch, name):
    """The lines a patch adds that make up static ... name(...) { ... }."""
    lines = [l[1:] for l in open(patch, encoding='utf-8').read().split('\n')
             if l.startswith('+') and not l.startswith('+++')]
    for i, l in enumerate(lines):
        if re.match(r'^static .*\b%s\(' % name, l):
            for j in range(i, len(lines)):
                if lines[j] == '}':
                    return '\n'.join(lines[i:j + 1]) + '\n'
    return None


def main():
    out, patches = sys.argv[1], sys.argv[2:]
    if not patches:
        sys.exit(__doc__)
    with tempfile.TemporaryDirectory() as tree:
        for p in patches:
            args = ['git', 'apply', '--allow-empty']
            args += ['--include=' + f for f in NEW_FILES]
            subprocess.run(args + [os.path.abspath(p)], cwd=tree, check=True)
        os.makedirs(out, exist_ok=True)
        for f in NEW_FILES:
            src = os.path.join(tree, f)
            if not os.path.exists(src):
                sys.exit('extract.py: the series creates no ' + f)
            data = open(src, encoding='utf-8').read()
            dst = os.path.join(out, os.path.basename(f))
            if not os.path.exists(dst) or open(dst, encoding='utf-8').read() != data:
                open(dst, 'w', encoding='utf-8').write(data)
    for p in patches:
        fn = added_function(p, 'tee_vm_ioctl')
        if fn:
            text = ('/* From %s: tee_core.c\'s tee_vm_ioctl() */\n'
                    '#include "kharness_core.h"\n\n' % os.path.basename(p)) + fn
            text = text.replace('static long tee_vm_ioctl', 'long tee_vm_ioctl', 1)
            dst = os.path.join(out, 'tee_vm_ioctl.c')
            if not os.path.exists(dst) or open(dst, encoding='utf-8').read() != text:
                open(dst, 'w', encoding='utf-8').write(text)
            return
    sys.exit('extract.py: no patch adds tee_vm_ioctl()')


if __name__ == '__main__':
    main()
