/* SPDX-License-Identifier: BSD-2-Clause */
/* teemedpins: what the BPF side and the loader share. */
#ifndef __TEEMEDPINS_H
#define __TEEMEDPINS_H

enum vm_state {
	VM_SEEN,	/* created before tracing began: figures from then on */
	VM_LIVE,	/* vm_create seen */
	VM_DESTROYED,	/* vm_destroy seen, nothing left pinned */
	VM_LEAKED,	/* vm_destroy seen with pages still pinned */
};

/* A VM of a VMM, as the library's probes see it. */
struct vm_key {
	__u32 pid;
	__u32 client_id;
};

struct vm_pins {
	__u64 label;
	__s64 pages;		/* live pinned pages */
	__s64 buffers;		/* live pinned buffers (registered + temporary) */
	__s64 calls;		/* yielding calls in flight */
	__u64 pages_max;
	__u64 buffers_max;
	__u64 calls_max;
	__u64 pins;		/* pin operations */
	__u64 unpins;
	__u64 lib_total;	/* the library's own total, last pin/unpin */
	__u64 leaked_pages;	/* pages still pinned at vm_destroy */
	__u64 leaked_buffers;
	__u64 lib_leaked;	/* vm_destroy's leaked_pages argument */
	enum vm_state state;	/* bpftool prints its name */
	__u32 pad;
};

/* A VM context in the host TEE driver (tee_vm tracepoints, arm64 board). */
struct kvm_pins {
	__s64 pages;
	__u64 pages_max;
	__u64 pins;
	__u64 unpins;
	__u64 max_pinned_pages;	/* the context's quota */
	__u64 pages_at_destroy;
	__u32 unwound_threads;
	__u32 leaked;		/* the driver says it lost a thread */
	enum vm_state state;	/* bpftool prints its name */
	__u32 pad;
};

/* Totals over the whole run: array map of one entry. */
struct pins_summary {
	__u64 vms_created;
	__u64 vms_destroyed;
	__u64 vms_leaked;
	__u64 pages_leaked;
	__u64 kvms_created;
	__u64 kvms_destroyed;
	__u64 kvms_leaked;
};

enum alarm_source {
	ALARM_LIBRARY,	/* vm_destroy with outstanding pins */
	ALARM_KERNEL,	/* tee_vm_destroy with pinned pages or a lost thread */
};

struct pins_alarm {
	__u64 ts_ns;
	__u64 label;
	__s64 pages;
	__s64 buffers;
	__u64 lib_leaked;
	__u32 pid;
	__u32 client_id;
	__u32 source;	/* enum alarm_source */
	__u32 flags;	/* kernel: the lost-thread flag */
};

#endif /* __TEEMEDPINS_H */
