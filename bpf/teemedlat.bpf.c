// SPDX-License-Identifier: BSD-2-Clause
/*
 * teemedlat: latency of every mediated SMC, per VM and function id, split
 * by stage (see teemedlat.h). Attaches to the library's USDT probes, and
 * optionally to the tee_vm and KVM tracepoints.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/usdt.bpf.h>
#include "teemedlat.h"
#include "optee_fids.h"
#include "bits.bpf.h"
#include "filter.bpf.h"

#define MAX_ENTRIES	10240
#define MAX_THREADS	4096

/* Knobs, set by the loader before load. */
const volatile __u64 unit_div = 1000;		/* ns -> histogram unit */
const volatile bool per_event = false;
const volatile bool with_hists = true;

/* What one vCPU thread is doing. */
struct thread_state {
	__u64 smc_ts;		/* smc_entry; 0 outside an SMC */
	__u64 backend_ts;	/* backend_enter; 0 outside */
	__u64 secure_ts;	/* tee_vm_call_begin; 0 outside */
	__u64 backend_ns;
	__u64 secure_ns;
	__u64 label;
	__u32 client_id;
	__u32 fid;
	__u32 backend_calls;
	__u32 secure_calls;
	/* KVM: the last exit of the vCPU and the SMC it carried */
	__u64 kvm_exit_ts;
	__u64 uexit_ts;
	__u64 done_label;
	__u32 done_client;
	__u32 done_fid;	/* an SMC completed since kvm_exit: the guest stage */
	__u32 done;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MAX_THREADS);
	__type(key, __u32);
	__type(value, struct thread_state);
} threads SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_ENTRIES);
	__type(key, struct call_key);
	__type(value, struct call_stats);
} calls SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_ENTRIES);
	__type(key, struct call_key);
	__type(value, struct backend_stats);
} backend SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_ENTRIES);
	__type(key, struct call_key);
	__type(value, struct hist);
} hists SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

static const struct thread_state zero_thread;
static const struct call_stats zero_stats;
static const struct backend_stats zero_backend;
static const struct hist zero_hist;

static __always_inline __u32 cur_tid(void)
{
	return (__u32)bpf_get_current_pid_tgid();
}

static __always_inline void hist_add(__u32 client_id, __u32 fid, __u32 stage, __u64 ns)
{
	struct call_key key = {
		.pid = bpf_get_current_pid_tgid() >> 32,
		.client_id = client_id,
		.fid = fid,
		.stage = stage,
	};
	struct hist *h;
	__u64 slot;

	if (!with_hists)
		return;
	h = lookup_or_init(&hists, &key, &zero_hist);
	if (!h)
		return;
	slot = log2l(ns / unit_div);
	if (slot >= TEEMEDLAT_MAX_SLOTS)
		slot = TEEMEDLAT_MAX_SLOTS - 1;
	__sync_fetch_and_add(&h->slots[slot], 1);
}

static __always_inline struct call_stats *stats_of(__u32 client_id, __u32 fid, __u64 label)
{
	struct call_key key = {
		.pid = bpf_get_current_pid_tgid() >> 32,
		.client_id = client_id,
		.fid = fid,
	};
	struct call_stats *s = lookup_or_init(&calls, &key, &zero_stats);

	if (s)
		s->label = label;
	return s;
}

static __always_inline void stage_add(struct call_stats *s, __u32 client_id, __u32 fid,
				      __u32 stage, __u64 ns)
{
	if (stage >= NR_STAGES)
		return;
	__sync_fetch_and_add(&s->ns[stage], ns);
	__sync_fetch_and_add(&s->n[stage], 1);
	hist_add(client_id, fid, stage, ns);
}

SEC("usdt")
int BPF_USDT(smc_entry, __u64 label, __u32 client_id, __u32 fid)
{
	struct thread_state *t;
	__u32 tid = cur_tid();

	if (!traced(client_id))
		return 0;
	t = lookup_or_init(&threads, &tid, &zero_thread);
	if (!t)
		return 0;
	t->smc_ts = bpf_ktime_get_ns();
	t->backend_ts = 0;
	t->secure_ts = 0;
	t->backend_ns = 0;
	t->secure_ns = 0;
	t->backend_calls = 0;
	t->secure_calls = 0;
	t->label = label;
	t->client_id = client_id;
	t->fid = fid;
	return 0;
}

SEC("usdt")
int BPF_USDT(smc_exit, __u64 label, __u32 client_id, __u32 fid, __u64 a0_out)
{
	__u64 now = bpf_ktime_get_ns(), total;
	struct thread_state *t;
	struct call_stats *s;
	__u32 tid = cur_tid();

	if (!traced(client_id))
		return 0;
	t = bpf_map_lookup_elem(&threads, &tid);
	/* An SMC that began before we attached has no start: skip it. */
	if (!t || !t->smc_ts || t->client_id != client_id || t->fid != fid)
		return 0;
	total = now - t->smc_ts;
	t->smc_ts = 0;

	s = stats_of(client_id, fid, label);
	if (!s)
		return 0;
	__sync_fetch_and_add(&s->count, 1);
	if (optee_is_rpc(a0_out))
		__sync_fetch_and_add(&s->rpc_out, 1);
	__sync_fetch_and_add(&s->backend_calls, t->backend_calls);
	stage_add(s, client_id, fid, STAGE_TOTAL, total);
	stage_add(s, client_id, fid, STAGE_VMM,
		  total > t->backend_ns ? total - t->backend_ns : 0);
	if (t->backend_calls)
		stage_add(s, client_id, fid, STAGE_BACKEND, t->backend_ns);
	if (t->secure_calls)
		stage_add(s, client_id, fid, STAGE_SECURE, t->secure_ns);

	/* The guest stage ends at the vCPU's next kvm_entry. */
	t->done = 1;
	t->done_client = client_id;
	t->done_fid = fid;
	t->done_label = label;

	if (per_event) {
		struct smc_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

		if (!e)
			return 0;
		e->ts_ns = now;
		e->label = label;
		e->a0_out = a0_out;
		e->ns[STAGE_TOTAL] = total;
		e->ns[STAGE_VMM] = total > t->backend_ns ? total - t->backend_ns : 0;
		e->ns[STAGE_BACKEND] = t->backend_ns;
		e->ns[STAGE_SECURE] = t->secure_ns;
		e->ns[STAGE_GUEST] = 0;
		e->pid = bpf_get_current_pid_tgid() >> 32;
		e->tid = tid;
		e->client_id = client_id;
		e->fid = fid;
		e->backend_calls = t->backend_calls;
		e->stages = 1 << STAGE_TOTAL | 1 << STAGE_VMM |
			    (t->backend_calls ? 1 << STAGE_BACKEND : 0) |
			    (t->secure_calls ? 1 << STAGE_SECURE : 0);
		bpf_ringbuf_submit(e, 0);
	}
	return 0;
}

SEC("usdt")
int BPF_USDT(backend_enter, __u64 label, __u32 client_id, __u64 a0)
{
	struct thread_state *t;
	__u32 tid = cur_tid();

	if (!traced(client_id))
		return 0;
	t = lookup_or_init(&threads, &tid, &zero_thread);
	if (t)
		t->backend_ts = bpf_ktime_get_ns();
	return 0;
}

SEC("usdt")
int BPF_USDT(backend_exit, __u64 label, __u32 client_id, __u64 a0, __u64 a0_out)
{
	struct call_key key = {};
	struct backend_stats *b;
	struct thread_state *t;
	__u32 tid = cur_tid();
	__u64 ns;

	if (!traced(client_id))
		return 0;
	t = bpf_map_lookup_elem(&threads, &tid);
	if (!t || !t->backend_ts)
		return 0;
	ns = bpf_ktime_get_ns() - t->backend_ts;
	t->backend_ts = 0;
	if (t->smc_ts) {
		t->backend_ns += ns;
		t->backend_calls++;
	}
	key.pid = bpf_get_current_pid_tgid() >> 32;
	key.client_id = client_id;
	key.fid = (__u32)a0;
	b = lookup_or_init(&backend, &key, &zero_backend);
	if (!b)
		return 0;
	__sync_fetch_and_add(&b->count, 1);
	__sync_fetch_and_add(&b->ns, ns);
	if (a0_out == ~0ull)
		__sync_fetch_and_add(&b->errors, 1);
	return 0;
}

/*
 * Kernel tracepoints of the tee_vm series (arm64 board). The loader turns
 * them off when /sys/kernel/tracing/events/tee_vm is absent. Raw
 * tracepoints take TP_PROTO's arguments: no layout of the trace record is
 * assumed.
 */
SEC("raw_tp/tee_vm_call_begin")
int BPF_PROG(tee_vm_call_begin, __u32 client_id, unsigned long fid, unsigned long a3)
{
	struct thread_state *t;
	__u32 tid = cur_tid();

	if (!traced(client_id))
		return 0;
	t = bpf_map_lookup_elem(&threads, &tid);
	if (t && t->smc_ts)
		t->secure_ts = bpf_ktime_get_ns();
	return 0;
}

SEC("raw_tp/tee_vm_call_end")
int BPF_PROG(tee_vm_call_end, __u32 client_id, unsigned long fid, unsigned long a0,
	     unsigned long a3)
{
	struct thread_state *t;
	__u32 tid = cur_tid();

	if (!traced(client_id))
		return 0;
	t = bpf_map_lookup_elem(&threads, &tid);
	if (!t || !t->smc_ts || !t->secure_ts)
		return 0;
	t->secure_ns += bpf_ktime_get_ns() - t->secure_ts;
	t->secure_calls++;
	t->secure_ts = 0;
	return 0;
}

/*
 * KVM: only threads that have made a mediated SMC (vCPU threads of a
 * traced VMM) are looked at; other VMs on the host cost a map lookup.
 */
SEC("raw_tp/kvm_exit")
int kvm_exit(void *ctx)
{
	struct thread_state *t;
	__u32 tid = cur_tid();

	t = bpf_map_lookup_elem(&threads, &tid);
	if (!t)
		return 0;
	t->kvm_exit_ts = bpf_ktime_get_ns();
	t->uexit_ts = 0;
	t->done = 0;
	return 0;
}

SEC("raw_tp/kvm_userspace_exit")
int kvm_userspace_exit(void *ctx)
{
	struct thread_state *t;
	__u32 tid = cur_tid();

	t = bpf_map_lookup_elem(&threads, &tid);
	if (t && t->kvm_exit_ts)
		t->uexit_ts = bpf_ktime_get_ns();
	return 0;
}

SEC("raw_tp/kvm_entry")
int kvm_entry(void *ctx)
{
	struct thread_state *t;
	struct call_stats *s;
	__u32 tid = cur_tid();

	t = bpf_map_lookup_elem(&threads, &tid);
	/* Only an exit that went to userspace and carried an SMC. */
	if (!t || !t->done || !t->kvm_exit_ts || !t->uexit_ts)
		return 0;
	s = stats_of(t->done_client, t->done_fid, t->done_label);
	if (s)
		stage_add(s, t->done_client, t->done_fid, STAGE_GUEST,
			  bpf_ktime_get_ns() - t->kvm_exit_ts);
	t->done = 0;
	t->kvm_exit_ts = 0;
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
