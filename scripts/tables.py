# SPDX-License-Identifier: BSD-2-Clause
"""Read tables/*.tsv, the project's one definition of the OP-TEE ids,
commands and limits that several parts share (see tables/ for what each
column means). Used by gen_tables.py, kernel/scripts/check_tables.py and
the Python tests."""
import os
from types import SimpleNamespace

TABLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'tables')
HANDLING = {'forward', 'mediate', 'refuse', 'answer'}


def read(path):
    rows, head = [], None
    with open(path, encoding='utf-8') as f:
        for line in f:
            line = line.rstrip('\n')
            if not line or line.startswith('#'):
                continue
            cells = line.split('\t')
            if head is None:
                head = cells
                continue
            if len(cells) > len(head):
                raise ValueError('%s: too many cells: %s' % (path, line))
            cells += [''] * (len(head) - len(cells))
            rows.append(dict(zip(head, cells)))
    return rows


def short(name):
    """The name the tools print: upstream's without its prefix
    (OPTEE_SMC_CALL_WITH_ARG is CALL_WITH_ARG, OPTEE_RPC_CMD_FS is FS)."""
    for prefix in ('OPTEE_SMC_RPC_FUNC_', 'OPTEE_MSG_CMD_', 'OPTEE_RPC_CMD_',
                   'OPTEE_SMC_CALL_RETURN_', 'OPTEE_SMC_CALL_GET_', 'OPTEE_SMC_CALL_LOAD_',
                   'OPTEE_SMC_'):
        if name.startswith(prefix):
            rest = name[len(prefix):]
            if prefix in ('OPTEE_SMC_CALL_RETURN_', 'OPTEE_SMC_CALL_GET_',
                          'OPTEE_SMC_CALL_LOAD_'):
                rest = prefix[len('OPTEE_SMC_CALL_'):] + rest
            return rest
    return name


def check(t):
    """What no table may say, whoever reads it."""
    names = set()
    for r in t.smc + t.msg + t.returns:
        if r['name'] in names:
            raise ValueError('%s defined twice' % r['name'])
        names.add(r['name'])
        int(r['value'], 0)
    for r in t.smc + t.msg:
        for col in ('kernel', 'library'):
            if r[col] not in HANDLING:
                raise ValueError('%s: %s is %r' % (r['name'], col, r[col]))
    returns = {r['name'] for r in t.returns}
    for r in t.smc:
        if (r['library'] == 'answer') != bool(r['answer']):
            raise ValueError('%s: an answer goes with library=answer' % r['name'])
        if r['answer'] and 'OPTEE_SMC_RETURN_' + r['answer'] not in returns:
            raise ValueError('%s: no return code %s' % (r['name'], r['answer']))
    for r in t.limits:
        int(r['value'], 0)
        if r['where'] not in ('library', 'kernel', 'optee'):
            raise ValueError('%s: where is %r' % (r['name'], r['where']))


def load(path=TABLES):
    t = SimpleNamespace(
        smc=read(os.path.join(path, 'optee_smc.tsv')),
        returns=read(os.path.join(path, 'optee_returns.tsv')),
        msg=read(os.path.join(path, 'optee_msg.tsv')),
        limits=read(os.path.join(path, 'limits.tsv')))
    check(t)
    return t


def value(t, name):
    for r in t.smc + t.msg + t.returns:
        if r['name'] == name:
            return int(r['value'], 0)
    for r in t.limits:
        if r['name'] == name:
            return int(r['value'], 0)
    raise KeyError(name)
