// SPDX-License-Identifier: BSD-2-Clause
/*
 * teemedpins: live pinned pages, buffers and calls per VM, their
 * high-water marks, and an alarm when a VM is destroyed with pins still
 * outstanding. Library side from the USDT probes; the host driver's side
 * from the tee_vm tracepoints where the kernel has them.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/usdt.bpf.h>
#include "teemedpins.h"
#include "optee_fids.h"
#include "bits.bpf.h"
#include "filter.bpf.h"

#define MAX_VMS 10240

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_VMS);
	__type(key, struct vm_key);
	__type(value, struct vm_pins);
} vms SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_VMS);
	__type(key, __u32);	/* client id */
	__type(value, struct kvm_pins);
} kvms SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pins_summary);
} summary SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} alarms SEC(".maps");

static const struct vm_pins zero_vm;
static const struct kvm_pins zero_kvm;

static __always_inline struct pins_summary *sum(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&summary, &zero);
}

static __always_inline struct vm_pins *vm_of(__u32 client_id, __u64 label)
{
	struct vm_key key = { .pid = bpf_get_current_pid_tgid() >> 32, .client_id = client_id };
	struct vm_pins *v = lookup_or_init(&vms, &key, &zero_vm);

	if (v)
		v->label = label;
	return v;
}

static __always_inline void raise_max(__u64 *max, __s64 v)
{
	/* vCPUs of one VM race here; the loser's value is at most one
	 * operation behind, and the next operation corrects it. */
	if (v > 0 && (__u64)v > *max)
		*max = v;
}

SEC("usdt")
int BPF_USDT(vm_create, __u64 label, __u32 client_id)
{
	struct vm_key key = { .pid = bpf_get_current_pid_tgid() >> 32, .client_id = client_id };
	struct vm_pins v = { .label = label, .state = VM_LIVE };
	struct pins_summary *s;

	if (!traced(client_id))
		return 0;
	/* A client id is reused once its VM is gone: start afresh. */
	bpf_map_update_elem(&vms, &key, &v, BPF_ANY);
	s = sum();
	if (s)
		__sync_fetch_and_add(&s->vms_created, 1);
	return 0;
}

SEC("usdt")
int BPF_USDT(pin, __u64 label, __u32 client_id, __u32 pages, __u32 total)
{
	struct vm_pins *v;
	__s64 now;

	if (!traced(client_id))
		return 0;
	v = vm_of(client_id, label);
	if (!v)
		return 0;
	/* A VM older than the trace: take its figure from the library. */
	if (v->state == VM_SEEN && !v->pins && !v->unpins)
		v->pages = (__s64)total - pages;
	now = __sync_fetch_and_add(&v->pages, pages) + pages;
	raise_max(&v->pages_max, now);
	now = __sync_fetch_and_add(&v->buffers, 1) + 1;
	raise_max(&v->buffers_max, now);
	__sync_fetch_and_add(&v->pins, 1);
	v->lib_total = total;
	return 0;
}

SEC("usdt")
int BPF_USDT(unpin, __u64 label, __u32 client_id, __u32 pages, __u32 total)
{
	struct vm_pins *v;

	if (!traced(client_id))
		return 0;
	v = vm_of(client_id, label);
	if (!v)
		return 0;
	if (v->state == VM_SEEN && !v->pins && !v->unpins)
		v->pages = (__s64)total + pages;
	__sync_fetch_and_add(&v->pages, -(__s64)pages);
	__sync_fetch_and_add(&v->buffers, -1);
	__sync_fetch_and_add(&v->unpins, 1);
	v->lib_total = total;
	return 0;
}

/*
 * Calls in flight, as the library counts them: a yielding call is live
 * from its smc_entry until an answer that is not an RPC request; a resume
 * the library refuses (E_RESUME) ends nothing.
 */
SEC("usdt")
int BPF_USDT(smc_entry, __u64 label, __u32 client_id, __u32 fid)
{
	struct vm_pins *v;
	__s64 now;

	if (!traced(client_id) || !optee_is_start(fid))
		return 0;
	v = vm_of(client_id, label);
	if (!v)
		return 0;
	now = __sync_fetch_and_add(&v->calls, 1) + 1;
	raise_max(&v->calls_max, now);
	return 0;
}

SEC("usdt")
int BPF_USDT(smc_exit, __u64 label, __u32 client_id, __u32 fid, __u64 a0_out)
{
	struct vm_pins *v;

	if (!traced(client_id) || optee_is_rpc(a0_out))
		return 0;
	if (!optee_is_start(fid) &&
	    !(fid == OPTEE_SMC_CALL_RETURN_FROM_RPC && (__u32)a0_out != OPTEE_SMC_RETURN_ERESUME))
		return 0;
	v = vm_of(client_id, label);
	if (v && v->calls > 0)
		__sync_fetch_and_add(&v->calls, -1);
	return 0;
}

SEC("usdt")
int BPF_USDT(vm_destroy, __u64 label, __u32 client_id, __u32 leaked)
{
	struct pins_summary *s = sum();
	struct pins_alarm *a;
	struct vm_pins *v;

	if (!traced(client_id))
		return 0;
	v = vm_of(client_id, label);
	if (!v)
		return 0;
	/* Suspended calls are unwound at destroy, without SMC probes. */
	v->calls = 0;
	v->lib_leaked = leaked;
	v->leaked_pages = v->pages;
	v->leaked_buffers = v->buffers;
	if (s)
		__sync_fetch_and_add(&s->vms_destroyed, 1);
	if (!v->pages && !v->buffers && !leaked) {
		v->state = VM_DESTROYED;
		return 0;
	}
	v->state = VM_LEAKED;
	if (s) {
		__sync_fetch_and_add(&s->vms_leaked, 1);
		__sync_fetch_and_add(&s->pages_leaked, v->pages > 0 ? v->pages : 0);
	}
	a = bpf_ringbuf_reserve(&alarms, sizeof(*a), 0);
	if (!a)
		return 0;
	a->ts_ns = bpf_ktime_get_ns();
	a->label = label;
	a->pages = v->pages;
	a->buffers = v->buffers;
	a->lib_leaked = leaked;
	a->pid = bpf_get_current_pid_tgid() >> 32;
	a->client_id = client_id;
	a->source = ALARM_LIBRARY;
	a->flags = 0;
	bpf_ringbuf_submit(a, 0);
	return 0;
}

/* ---- host TEE driver (tee_vm tracepoints) ---------------------------- */

static __always_inline struct kvm_pins *kvm_of(__u32 client_id)
{
	return lookup_or_init(&kvms, &client_id, &zero_kvm);
}

/* A context the driver unpins for or destroys: maybe from another task
 * than the VMM's (context release), so a pid filter cannot apply; with
 * one, only contexts already seen from the VMM count. */
static __always_inline struct kvm_pins *kvm_released(__u32 client_id)
{
	struct kvm_pins *k = bpf_map_lookup_elem(&kvms, &client_id);

	if (!k && !targ_tgid)
		k = kvm_of(client_id);
	return k;
}

SEC("raw_tp/tee_vm_create")
int BPF_PROG(tee_vm_create, __u32 client_id, unsigned int max_pinned_pages)
{
	struct kvm_pins k = { .max_pinned_pages = max_pinned_pages, .state = VM_LIVE };
	struct pins_summary *s = sum();

	if (!traced(client_id))
		return 0;
	bpf_map_update_elem(&kvms, &client_id, &k, BPF_ANY);
	if (s)
		__sync_fetch_and_add(&s->kvms_created, 1);
	return 0;
}

SEC("raw_tp/tee_vm_pin")
int BPF_PROG(tee_vm_pin, __u32 client_id, __u32 handle, unsigned int num_pages,
	     unsigned int pinned_pages)
{
	struct kvm_pins *k;
	__s64 now;

	if (!traced(client_id))
		return 0;
	k = kvm_of(client_id);
	if (!k)
		return 0;
	if (k->state == VM_SEEN && !k->pins && !k->unpins)
		k->pages = (__s64)pinned_pages - num_pages;
	now = __sync_fetch_and_add(&k->pages, num_pages) + num_pages;
	raise_max(&k->pages_max, now);
	__sync_fetch_and_add(&k->pins, 1);
	return 0;
}

SEC("raw_tp/tee_vm_unpin")
int BPF_PROG(tee_vm_unpin, __u32 client_id, __u32 handle, unsigned int num_pages,
	     unsigned int pinned_pages)
{
	struct kvm_pins *k;

	/* The driver also unpins at context release, maybe from another
	 * task than the VMM's: no pid filter here. */
	if (filter_client && client_id != targ_client)
		return 0;
	k = kvm_released(client_id);
	if (!k)
		return 0;
	if (k->state == VM_SEEN && !k->pins && !k->unpins)
		k->pages = (__s64)pinned_pages + num_pages;
	__sync_fetch_and_add(&k->pages, -(__s64)num_pages);
	__sync_fetch_and_add(&k->unpins, 1);
	return 0;
}

SEC("raw_tp/tee_vm_destroy")
int BPF_PROG(tee_vm_destroy, __u32 client_id, unsigned int pinned_pages,
	     unsigned int unwound_threads, bool leaked)
{
	struct pins_summary *s = sum();
	struct pins_alarm *a;
	struct kvm_pins *k;

	if (filter_client && client_id != targ_client)
		return 0;
	k = kvm_released(client_id);
	if (!k)
		return 0;
	/* Fired after VM_DESTROYED, before the driver drops what is left.
	 * Pages still pinned here are normal: OP-TEE held registered SHM
	 * until VM_DESTROYED, so the driver unpins them now (design.md,
	 * rule 4). Only `leaked` (an unwind that did not finish, pages kept
	 * on purpose) is a leak. */
	k->pages_at_destroy = pinned_pages;
	k->unwound_threads = unwound_threads;
	k->leaked = leaked;
	if (s)
		__sync_fetch_and_add(&s->kvms_destroyed, 1);
	if (!leaked) {
		k->state = VM_DESTROYED;
		return 0;
	}
	k->state = VM_LEAKED;
	if (s)
		__sync_fetch_and_add(&s->kvms_leaked, 1);
	a = bpf_ringbuf_reserve(&alarms, sizeof(*a), 0);
	if (!a)
		return 0;
	a->ts_ns = bpf_ktime_get_ns();
	a->label = 0;
	a->pages = pinned_pages;
	a->buffers = 0;
	a->lib_leaked = 0;
	a->pid = bpf_get_current_pid_tgid() >> 32;
	a->client_id = client_id;
	a->source = ALARM_KERNEL;
	a->flags = leaked;
	bpf_ringbuf_submit(a, 0);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
