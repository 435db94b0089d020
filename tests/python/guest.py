"""A guest for the tests: guest RAM, and a model of what Linux's OP-TEE
driver plus tee-supplicant do on their side of the SMC ABI (building
arguments, page lists, serving RPCs). It drives the library exactly as a
real guest's `smc` instructions would, through teemed.Vm.smc()."""

import random
import struct

import optee as o
import teemed

HDR = struct.Struct("<8I")
PARAM = struct.Struct("<4Q")


def arg_size(n):
    return HDR.size + PARAM.size * n


def hi(v):
    return (v >> 32) & 0xFFFFFFFF


def lo(v):
    return v & 0xFFFFFFFF


class Arg:
    """A struct optee_msg_arg."""

    def __init__(self, cmd, params=(), func=0, session=0, cancel_id=0, num_params=None):
        self.cmd, self.func, self.session, self.cancel_id = cmd, func, session, cancel_id
        self.ret = self.ret_origin = 0
        self.params = [list(p) for p in params]
        self.num_params = len(self.params) if num_params is None else num_params

    def pack(self):
        b = HDR.pack(self.cmd, self.func, self.session, self.cancel_id, 0, self.ret,
                     self.ret_origin, self.num_params)
        return b + b"".join(PARAM.pack(*p) for p in self.params)

    @classmethod
    def unpack(cls, b):
        cmd, func, session, cancel_id, _, ret, origin, n = HDR.unpack_from(b, 0)
        a = cls(cmd, [PARAM.unpack_from(b, HDR.size + i * PARAM.size) for i in range(n)],
                func, session, cancel_id)
        a.ret, a.ret_origin = ret, origin
        return a


def ta_image(uuid=o.TA_UUID, extra=b"x" * 3000):
    return b"TEEMEDTA" + struct.pack("<QQ", *uuid) + extra


class Guest:
    """One VM: RAM at `ipa`, the mediator's Vm, and a driver model."""

    def __init__(self, backend, ram_pages=1024, ipa=0x40000000, limits=None, label=0,
                 seed=1):
        self.ram = teemed.GuestRam(ram_pages * o.PAGE)
        self.vm = teemed.Vm(backend, limits or teemed.Limits(), label)
        self.ipa = ipa
        self.vm.add_region(ipa, ram_pages * o.PAGE, self.ram.address)
        self.free = [ipa + i * o.PAGE for i in range(ram_pages)]
        random.Random(seed).shuffle(self.free)  # scattered pages: real translation
        self.cookie = 0x1000
        self.rpc_pages = {}  # RPC ALLOC cookie -> ipa
        self.shm = {}  # cookie -> (data pages, list pages, size, offset)
        self.ta = ta_image()
        self.seen_rpcs = []
        self.rpc_hook = None  # lambda(regs) -> regs or None, to misbehave

    # -- memory -------------------------------------------------------
    def page(self):
        return self.free.pop()

    def put(self, ipa, data):
        self.ram.write(ipa - self.ipa, data)

    def get(self, ipa, n):
        return self.ram.read(ipa - self.ipa, n)

    def new_cookie(self):
        self.cookie += 1
        return self.cookie

    def make_buffer(self, data, offset=0, size=None):
        """Data in scattered pages, described by a NONCONTIG page list.
        Returns (buf_ptr, size, pages) with buf_ptr = list | offset."""
        size = len(data) if size is None else size
        npages = (offset + size + o.PAGE - 1) // o.PAGE
        pages = [self.page() for _ in range(npages)]
        blob = bytes(offset) + data
        for i, p in enumerate(pages):
            self.put(p, blob[i * o.PAGE:(i + 1) * o.PAGE].ljust(o.PAGE, b"\0"))
        lists = [self.page() for _ in range((npages + 510) // 511)]
        for li, lp in enumerate(lists):
            ents = pages[li * 511:(li + 1) * 511]
            nxt = lists[li + 1] if li + 1 < len(lists) else 0
            self.put(lp, struct.pack(f"<{len(ents)}Q", *ents).ljust(511 * 8, b"\0")
                     + struct.pack("<Q", nxt))
        return lists[0] | offset, size, pages + lists

    def read_buffer(self, pages, offset, size):
        out = b""
        for p in pages:
            out += self.get(p, o.PAGE)
        return out[offset:offset + size]

    def release(self, pages):
        self.free.extend(pages)

    # -- SMC ----------------------------------------------------------
    def smc(self, *regs):
        return self.vm.smc(list(regs) + [0] * (8 - len(regs)))

    def call(self, arg, mode="plain", regd_cookie=None, regd_offset=0, arg_ipa=None):
        """Issue a yielding call and serve its RPCs. Returns (a0, Arg)."""
        rpc_ipa = None
        if mode == "regd":
            buf_pages, _, _, off = self.shm[regd_cookie]
            base = off + regd_offset
            ipa_of = lambda pos: buf_pages[pos // o.PAGE] + pos % o.PAGE
            arg_loc = ipa_of(base)
            rpc_loc = ipa_of(base + arg_size(arg.num_params))
            self.put(arg_loc, arg.pack())  # the tests keep it inside one page
            regs = [o.CALL_WITH_REGD_ARG, hi(regd_cookie), lo(regd_cookie), regd_offset]
            rpc_ipa = rpc_loc
        else:
            arg_loc = arg_ipa if arg_ipa is not None else self.page()
            if arg_ipa is None:
                self.put(arg_loc, bytes(o.PAGE))
            self.put(arg_loc, arg.pack())
            fid = o.CALL_WITH_ARG if mode == "plain" else o.CALL_WITH_RPC_ARG
            if mode == "rpc_arg":
                rpc_ipa = arg_loc + arg_size(arg.num_params)
            regs = [fid, hi(arg_loc), lo(arg_loc)]
        out = self.smc(*regs)
        while o.is_rpc(out[0]):
            out = self.serve_rpc(out, rpc_ipa)
        res = Arg.unpack(self.get(arg_loc, arg_size(arg.num_params)))
        if mode != "regd" and arg_ipa is None:
            self.free.append(arg_loc)
        return out[0], res

    def serve_rpc(self, out, rpc_ipa):
        self.seen_rpcs.append(out[0])
        if self.rpc_hook:
            r = self.rpc_hook(out)
            if r is not None:
                return self.smc(*r)
        a0, a1, a2, a3 = out[:4]
        if a0 == o.RPC_ALLOC:
            p, c = self.page(), self.new_cookie()
            self.rpc_pages[c] = p
            return self.smc(o.RETURN_FROM_RPC, hi(p), lo(p), a3, hi(c), lo(c))
        if a0 == o.RPC_FREE:
            c = (a1 << 32) | a2
            if c in self.rpc_pages:
                self.free.append(self.rpc_pages.pop(c))
            return self.smc(o.RETURN_FROM_RPC, 0, 0, a3)
        if a0 == o.RPC_CMD:
            loc = rpc_ipa if rpc_ipa is not None else self.rpc_pages[(a1 << 32) | a2]
            req = Arg.unpack(self.get(loc, arg_size(4)))
            self.serve_cmd(req)
            self.put(loc, req.pack())
            return self.smc(o.RETURN_FROM_RPC, 0, 0, a3)
        return self.smc(o.RETURN_FROM_RPC, 0, 0, a3)  # FOREIGN_INTR

    def serve_cmd(self, req):
        """tee-supplicant and the driver's RPC handler, in short."""
        req.ret = o.TEEC_SUCCESS
        if req.cmd == o.RPC_CMD_LOAD_TA:
            mem = req.params[1]
            if mem[0] == o.ATTR_TMEM_OUTPUT and mem[1] == 0:
                mem[2] = len(self.ta)
            else:
                pages, _, size, off = self.shm[mem[3]]
                data = self.read_buffer(pages, off, size)
                blob = (data[:mem[1]] + self.ta)[:size]
                self.write_shm(mem[3], blob)
                mem[2] = len(self.ta)
        elif req.cmd == o.RPC_CMD_SHM_ALLOC:
            size = req.params[0][2]
            c = self.new_cookie()
            buf_ptr, _, pages = self.make_buffer(b"", size=size)
            self.shm[c] = (pages, [], size, 0)
            req.params[0] = [o.ATTR_TMEM_OUTPUT | o.ATTR_NONCONTIG, buf_ptr, size, c]
        elif req.cmd == o.RPC_CMD_SHM_FREE:
            c = req.params[0][2]
            if c in self.shm:
                self.release(self.shm.pop(c)[0])
        else:
            req.ret = o.TEEC_ERROR_NOT_SUPPORTED

    def write_shm(self, cookie, data):
        pages, _, size, off = self.shm[cookie]
        blob = bytes(off) + data
        for i, p in enumerate(pages):
            chunk = blob[i * o.PAGE:(i + 1) * o.PAGE]
            if chunk:
                self.put(p, chunk)

    # -- the client API, in short ------------------------------------
    def open_session(self, uuid=o.TA_UUID, mode="plain", **kw):
        arg = Arg(o.CMD_OPEN_SESSION, [
            [o.ATTR_VALUE_INPUT | o.ATTR_META, uuid[0], uuid[1], 0],
            [o.ATTR_VALUE_INPUT | o.ATTR_META, 0, 0, 0]])
        return self.call(arg, mode, **kw)

    def register_shm(self, data, offset=0, cookie=None, mode="plain"):
        cookie = self.new_cookie() if cookie is None else cookie
        buf_ptr, size, pages = self.make_buffer(data, offset)
        arg = Arg(o.CMD_REGISTER_SHM, [[o.ATTR_TMEM_OUTPUT | o.ATTR_NONCONTIG, buf_ptr, size,
                                        cookie]])
        a0, res = self.call(arg, mode)
        if a0 == o.RETURN_OK and res.ret == o.TEEC_SUCCESS:
            self.shm[cookie] = (pages, [], size, offset)
        return a0, res, cookie

    def unregister_shm(self, cookie, mode="plain"):
        a0, res = self.call(Arg(o.CMD_UNREGISTER_SHM, [[o.ATTR_RMEM_INPUT, 0, 0, cookie]]),
                            mode)
        if a0 == o.RETURN_OK and res.ret == o.TEEC_SUCCESS and cookie in self.shm:
            self.release(self.shm.pop(cookie)[0])
        return a0, res

    def invoke(self, session, func, params, mode="plain", **kw):
        return self.call(Arg(o.CMD_INVOKE_COMMAND, params, func=func, session=session),
                         mode, **kw)

    def close_session(self, session, mode="plain", **kw):
        return self.call(Arg(o.CMD_CLOSE_SESSION, session=session), mode, **kw)
