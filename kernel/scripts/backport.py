#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""The 6.12 backport of the mainline series, kept mechanical.

usage: backport.py carry MAINLINE_PATCH OUT_PATCH
           the patch as 6.12 needs it: REWRITES applied to the lines it
           adds, and a "[ backport: ... ]" line (the stable convention)
           after its Signed-off-by saying which, if any applied
       backport.py check BACKPORT_DIR MAINLINE_DIR [MAINLINE_DIR...]
           the backport makes mainline's changes: the same patches, in
           the same order, with the same subjects, adding and removing
           the same lines, but for REWRITES in a patch that says so; only
           the context around them (and the KVM selftests' directory,
           aarch64/ before 6.14) may differ

This is how a fix is made once: in the mainline series. kernel.sh backport
carries each patch (carry), applies it to 6.12 with git am -3 (context
conflicts replayed by git rerere from its record of how they were
resolved, kept in the cache) and exports the result; kernel-check runs
check.
"""
import glob
import os
import re
import sys

RENAMES = [('tools/testing/selftests/kvm/arm64/', 'tools/testing/selftests/kvm/aarch64/')]

# Mainline line -> its 6.12 form, and why.
REWRITES = [
    (re.compile(r'kzalloc_obj\((\*\w+), (\w+)\)'), r'kzalloc(sizeof(\1), \2)',
     'kzalloc(sizeof()) for kzalloc_obj(), which 6.12 does not have'),
    (re.compile(r'^([+-]\s*)(\w+) = vcpu_get_reg\((\w+), (.*)\);$'),
     r'\1vcpu_get_reg(\3, \4, &\2);',
     "6.12's vcpu_get_reg() stores through a pointer"),
]


def rewrite(line, why=None):
    for pat, rep, reason in REWRITES:
        new = pat.sub(rep, line)
        if new != line and why is not None:
            why.append(reason)
        line = new
    return line


def carry(src, out):
    head, sep, body = open(src, encoding='utf-8').read().partition('\n---\n')
    why = []
    lines = [rewrite(x, why) if x.startswith('+') and not x.startswith('+++') else x
             for x in body.split('\n')]
    if why:
        note = '[ backport: %s ]' % '; '.join(dict.fromkeys(why))
        hl = head.split('\n')
        last = max(i for i, x in enumerate(hl) if x.startswith('Signed-off-by:'))
        hl.insert(last + 1, note)
        head = '\n'.join(hl)
    with open(out, 'w', encoding='utf-8') as f:
        f.write(head + sep + '\n'.join(lines))
    return 0


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


def check(backport_dir, mainline_dirs):
    back = patches(backport_dir)
    main_ = [p for d in mainline_dirs for p in patches(d)]
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
        print('backport: ' + e)
    if not errors:
        print('backport: %d patches, the same changes as mainline' % len(back))
    return 1 if errors else 0


def main():
    if len(sys.argv) == 4 and sys.argv[1] == 'carry':
        return carry(sys.argv[2], sys.argv[3])
    if len(sys.argv) >= 4 and sys.argv[1] == 'check':
        return check(sys.argv[2], sys.argv[3:])
    sys.exit(__doc__)


if __name__ == '__main__':
    sys.exit(main())
