#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""Fail unless every function the series adds to an interface has kernel-doc.

usage: kdoc_new_functions.py TREE BASE_REV FILE...

For each FILE (a .c or .h path inside the git TREE), the function
definitions present at HEAD but not at BASE_REV that other files can call
(not static) must be preceded by a kernel-doc comment (/** ... */) that
names them: "name() - ..." or "name - ...", as the kernel's documentation
guide asks of every exported or shared function. Static helpers are
documented where they need it, like the code around them. Prints one
line per undocumented function; exit 1 if any.
"""
import re
import subprocess
import sys

# A definition starts at column 0 and ends its declarator with ")" at the
# end of a line whose next line is "{" (kernel style).
DEF_START = re.compile(r'^(?!#|\s|/|\*|\}|typedef|struct \w+ \{|enum|union)'
                       r'[^;=()]*?\b(\w+)\(')


def definitions(text):
    """Yield (name, line index of the first line) of function bodies."""
    lines = text.split('\n')
    for i, line in enumerate(lines):
        m = DEF_START.match(line)
        if not m or line.rstrip().endswith(';'):
            continue
        # find the line ending the declarator, then require "{" next
        j = i
        while j < len(lines) and not lines[j].rstrip().endswith(')'):
            if lines[j].rstrip().endswith(';') or lines[j].startswith('{'):
                break
            j += 1
        if j + 1 < len(lines) and lines[j].rstrip().endswith(')') \
                and lines[j + 1].startswith('{'):
            yield m.group(1), i


def documented(lines, i, name):
    j = i - 1
    while j >= 0 and lines[j].strip() == '':
        j -= 1
    if j < 0 or not lines[j].strip().endswith('*/'):
        return False
    while j >= 0 and not lines[j].lstrip().startswith('/*'):
        j -= 1
    if j < 0 or not lines[j].lstrip().startswith('/**'):
        return False
    head = ' '.join(lines[j:j + 2])
    return re.search(r'\b%s(\(\))?\s+-' % re.escape(name), head) is not None


def git_show(tree, rev, path):
    r = subprocess.run(['git', '-C', tree, 'show', '%s:%s' % (rev, path)],
                       capture_output=True, text=True)
    return r.stdout if r.returncode == 0 else ''


def main():
    tree, base, files = sys.argv[1], sys.argv[2], sys.argv[3:]
    bad = 0
    for path in files:
        old = {n for n, _ in definitions(git_show(tree, base, path))}
        text = open('%s/%s' % (tree, path), encoding='utf-8').read()
        lines = text.split('\n')
        for name, i in definitions(text):
            if name in old or lines[i].startswith('static '):
                continue
            if not documented(lines, i, name):
                print('%s:%d: new function %s() has no kernel-doc' %
                      (path, i + 1, name))
                bad += 1
    sys.exit(1 if bad else 0)


if __name__ == '__main__':
    main()
