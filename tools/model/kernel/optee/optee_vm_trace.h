/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * In the harness: the tee_vm trace points, recorded by kshim.cpp (the
 * tests read the unpins: the real one may come after the release).
 */
#ifndef KSHIM_OPTEE_VM_TRACE_H
#define KSHIM_OPTEE_VM_TRACE_H
#include <linux/kshim.h>

void kshim_trace(const char *event, u32 client_id, u64 a, u64 b, u64 c);
static inline void trace_tee_vm_create(u32 id, unsigned int max) { kshim_trace("create", id, max, 0, 0); }
static inline void trace_tee_vm_destroy(u32 id, unsigned int pinned, unsigned int suspended,
					bool leaked)
{
	kshim_trace("destroy", id, pinned, suspended, leaked);
}
static inline void trace_tee_vm_call_begin(u32 id, unsigned long fid, unsigned long a3)
{
	kshim_trace("call_begin", id, fid, a3, 0);
}
static inline void trace_tee_vm_call_end(u32 id, unsigned long fid, unsigned long a0,
					 unsigned long a3)
{
	kshim_trace("call_end", id, fid, a0, a3);
}
static inline void trace_tee_vm_pin(u32 id, u32 handle, unsigned int n, unsigned int total)
{
	kshim_trace("pin", id, handle, n, total);
}
static inline void trace_tee_vm_unpin(u32 id, u32 handle, unsigned int n, unsigned int total)
{
	kshim_trace("unpin", id, handle, n, total);
}
#endif
