#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""Check that the library's copy of the VM-context uapi matches the kernel's.

usage: uapi_diff.py tools/lib/uapi/linux/tee_vm.h PATCHED/include/uapi/linux/tee.h

Compares, structurally, every #define and struct of the VM-context API
(TEE_GEN_CAP_VM, TEE_IOC_VM_*, TEE_VM_*, struct tee_ioctl_vm_*): the same
names, the same values and the same member lines, whitespace and comments
aside. Exits 1 and prints the differences if they do not match.
"""
import re
import sys

NAME = re.compile(r'^(TEE_GEN_CAP_VM|TEE_IOC_VM_\w+|TEE_VM_\w+|tee_ioctl_vm_\w+)$')


def strip_comments(text):
    text = re.sub(r'/\*.*?\*/', ' ', text, flags=re.S)
    return re.sub(r'//[^\n]*', ' ', text)


def norm(s):
    return ' '.join(s.replace('\t', ' ').split())


def extract(path):
    text = open(path, encoding='utf-8').read()
    text = strip_comments(text.replace('\\\n', ' '))
    items = {}
    for m in re.finditer(r'^#define\s+(\w+)\s*(.*)$', text, flags=re.M):
        if NAME.match(m.group(1)):
            items['#define ' + m.group(1)] = norm(m.group(2))
    for m in re.finditer(r'^struct\s+(\w+)\s*\{(.*?)\};', text, flags=re.M | re.S):
        if NAME.match(m.group(1)):
            members = [norm(x) for x in m.group(2).split(';') if norm(x)]
            items['struct ' + m.group(1)] = members
    return items


def main():
    lib, kernel = extract(sys.argv[1]), extract(sys.argv[2])
    bad = False
    for key in sorted(set(lib) | set(kernel)):
        if key not in kernel:
            print('only in %s: %s' % (sys.argv[1], key))
            bad = True
        elif key not in lib:
            print('only in %s: %s' % (sys.argv[2], key))
            bad = True
        elif lib[key] != kernel[key]:
            print('differs: %s\n  %s: %s\n  %s: %s' %
                  (key, sys.argv[1], lib[key], sys.argv[2], kernel[key]))
            bad = True
    if not lib:
        print('no VM-context definitions found in %s' % sys.argv[1])
        bad = True
    if not bad:
        print('uapi: %d definitions match' % len(lib))
    sys.exit(1 if bad else 0)


if __name__ == '__main__':
    main()
