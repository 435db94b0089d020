#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""Hold the 6.12 backport to the mainline series: the same patches, in the
same order, with the same subjects, adding and removing the same lines;
only the context around them (and the KVM selftests' directory, aarch64/
before 6.14) may differ. A backport patch whose lines must differ says why
in its commit message, in a line beginning "[ backport:" (the kernel's
stable convention), and may then differ only by the mechanical rewrites
of REWRITES (APIs 6.12 does not have); anything else is an error.

usage: backport_diff.py BACKPORT_DIR MAINLINE_DIR [MAINLINE_DIR...]

This is how a fix is made once: in the mainline series; kernel.sh backport
regenerates the 6.12 series from it, and kernel-check fails when the two
tell different stories.
"""
import glob
import os
import re
import sys

RENAMES = [('tools/testing/selftests/kvm/arm64/', 'tools/testing/selftests/kvm/aarch64/')]

# Mainline line -> its 6.12 form, for a backport that says so.
REWRITES = [
    # kzalloc_obj() (7.0) is not in 6.12
    (re.compile(r'kzalloc_obj\((\*\w+), (\w+)\)'), r'kzalloc(sizeof(\1), \2)'),
    # the KVM selftests' vcpu_get_reg() returned through a pointer
    (re.compile(r'^([+-]\s*)(\w+) = vcpu_get_reg\((\w+), (.*)\);$'),
     r'\1vcpu_get_reg(\3, \4, &\2);'),
]


def rewrite(line):
    for pat, rep in REWRITES:
        line = pat.sub(rep, line)
    return line


def patches(d):
    return sorted(p for p in glob.glob(os.path.join(d, '[0-9][0-9][0-9][0-9]-*.patch'))
                  if not os.path.basename(p).startswith('0000-'))


def parse(path):
    text = open(path, encoding='utf-8').read()
    m = re.search(r'^Subject: (?:\[[^]]*\] )?(.*(?:\n .*)*)', text, re.M)
    subject = ' '.join(m.group(1).split()) if m else '?'
    head, _, body = text.partition('\n---\n')
    note = any(line.startswith('[ backport:') for line in head.splitlines())
    files = {}
    cur = None
    for line in body.splitlines():
        if line.startswith('diff --git '):
            cur = line.split(' b/', 1)[1]
            for new, old in RENAMES:
                cur = cur.replace(old, new)
            files[cur] = []
        elif cur is None or line.startswith(('+++ ', '--- ', 'index ', '@@')):
            continue
        elif line.startswith(('+', '-')):
            files[cur].append(line)
        elif line.startswith('-- '):  # the signature
            cur = None
    return subject, note, files


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    back = patches(sys.argv[1])
    main_ = [p for d in sys.argv[2:] for p in patches(d)]
    errors = []
    if len(back) != len(main_):
        errors.append('%d backport patches, %d mainline' % (len(back), len(main_)))
    for b, m in zip(back, main_):
        bs, note, bf = parse(b)
        ms, _, mf = parse(m)
        name = os.path.basename(b)
        if bs != ms:
            errors.append('%s: subject "%s", mainline "%s"' % (name, bs, ms))
        if sorted(bf) != sorted(mf):
            errors.append('%s: files %s, mainline %s' % (name, sorted(bf), sorted(mf)))
            continue
        for f in mf:
            want = [rewrite(x) for x in mf[f]] if note else mf[f]
            if bf[f] != want:
                errors.append('%s: %s adds or removes other lines than mainline%s' % (
                    name, f, '' if note else ' (say why in a "[ backport: ...]" line)'))
    for e in errors:
        print('backport_diff: ' + e)
    if not errors:
        print('backport_diff: %d patches, the same changes as mainline' % len(back))
    return 1 if errors else 0


if __name__ == '__main__':
    sys.exit(main())
