#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""Generate teemed_tables.h from tables/*.tsv: the one definition of the
OP-TEE function ids, return codes, message commands, RPCs and limits that
the library, the OP-TEE model and the eBPF tools share. The kernel series
is checked against the same files by kernel/scripts/check_tables.py; the
Python tests read them with tables.py.

usage: gen_tables.py TABLES_DIR OUT_HEADER

The header is plain C (the BPF programs include it): the numbers as
#defines under the names upstream gives them, and X-macro lists whose
handling columns are bare words (forward, mediate, refuse, answer) for the
including code to map.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tables  # noqa: E402


def xlist(macro, doc, rows, cells):
    out = ['/* %s */' % doc, '#define %s(X) \\' % macro]
    out += ['\tX(%s) \\' % ', '.join(cells(r)) for r in rows]
    return out + ['']


def header(t):
    o = ['/* SPDX-License-Identifier: BSD-2-Clause */',
         '/* Generated from the tables/ files by scripts/gen_tables.py: edit those. */',
         '#ifndef TEEMED_TABLES_H', '#define TEEMED_TABLES_H', '']
    o.append('/* OP-TEE SMC return codes (optee_smc.h) */')
    o += ['#define %s %su' % (r['name'], r['value']) for r in t.returns]
    o += ['', '/* OP-TEE SMC function ids (optee_smc.h) */']
    o += ['#define %s %su' % (r['name'], r['value']) for r in t.smc]
    o.append('')
    o += xlist('TEEMED_OPTEE_SMC_IDS',
               'X(id, short name, kernel, library, the library\'s answer or 0)', t.smc,
               lambda r: [r['name'], '"%s"' % tables.short(r['name']), r['kernel'],
                          r['library'],
                          'OPTEE_SMC_RETURN_' + r['answer'] if r['answer'] else '0'])
    for kind, title, macro in (
            ('cmd', 'message commands (optee_msg.h)', 'TEEMED_OPTEE_MSG_CMDS'),
            ('rpc', 'RPC functions (optee_smc.h)', 'TEEMED_OPTEE_RPC_FUNCS'),
            ('rpccmd', 'RPC commands (optee_rpc_cmd.h)', 'TEEMED_OPTEE_RPC_CMDS')):
        rows = [r for r in t.msg if r['kind'] == kind]
        o.append('/* OP-TEE %s */' % title)
        o += ['#define %s %su' % (r['name'], r['value']) for r in rows]
        o += xlist(macro, 'X(value, short name, kernel, library)', rows,
                   lambda r: [r['name'], '"%s"' % tables.short(r['name']),
                              r['kernel'], r['library']])
    o.append('/* Limits (tables/limits.tsv says where each comes from) */')
    o += ['#define TEEMED_LIMIT_%s %su' % (r['name'].upper(), r['value']) for r in t.limits]
    return '\n'.join(o + ['', '#endif', ''])


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    text = header(tables.load(sys.argv[1]))
    out = sys.argv[2]
    if os.path.exists(out) and open(out, encoding='utf-8').read() == text:
        return
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out + '.tmp', 'w', encoding='utf-8') as f:
        f.write(text)
    os.replace(out + '.tmp', out)


if __name__ == '__main__':
    main()
