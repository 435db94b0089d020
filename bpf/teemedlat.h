/* SPDX-License-Identifier: BSD-2-Clause */
/* teemedlat: what the BPF side and the loader share. */
#ifndef __TEEMEDLAT_H
#define __TEEMEDLAT_H

#define TEEMEDLAT_MAX_SLOTS	32

/*
 * Stages of one guest SMC, as the probes and tracepoints cut it:
 *   TOTAL    smc_entry -> smc_exit: the library, all of it
 *   VMM      TOTAL minus BACKEND: the mediation itself
 *   BACKEND  backend_enter -> backend_exit, summed over the SMC: the host
 *            TEE driver plus the secure world (the model in tests)
 *   SECURE   tee_vm_call_begin -> tee_vm_call_end (kernel tracepoints,
 *            arm64 board only): the secure world alone
 *   GUEST    kvm_exit -> kvm_entry around the SMC on its vCPU thread
 *            (KVM tracepoints): what the guest sees, exit to userspace,
 *            mediation and re-entry included
 * BACKEND, SECURE and GUEST are recorded only for SMCs that had them.
 */
enum teemedlat_stage {
	STAGE_TOTAL,
	STAGE_VMM,
	STAGE_BACKEND,
	STAGE_SECURE,
	STAGE_GUEST,
	NR_STAGES,
};

/* One VM of one VMM, one function id. */
struct call_key {
	__u32 pid;	 /* VMM process */
	__u32 client_id; /* the VM's OP-TEE client id */
	__u32 fid;	 /* guest SMC function id (a0), or backend a0 */
	__u32 stage;	 /* hists only; 0 elsewhere */
};

/* Per VM and guest function id. */
struct call_stats {
	__u64 label;		/* the VMM's label of the VM */
	__u64 count;		/* SMCs completed (smc_exit seen) */
	__u64 rpc_out;		/* of which answered with an RPC request */
	__u64 backend_calls;	/* backend calls made for them */
	__u64 ns[NR_STAGES];	/* summed time per stage */
	__u64 n[NR_STAGES];	/* SMCs that had the stage */
};

/* Per VM and backend function id: every backend call, whether a guest SMC
 * caused it or the library made it itself (VM setup, unwind at destroy). */
struct backend_stats {
	__u64 count;
	__u64 errors; /* backend_exit with a0_out = ~0: the path failed */
	__u64 ns;
};

struct hist {
	__u64 slots[TEEMEDLAT_MAX_SLOTS];
};

/* Per-event mode: one record per guest SMC. */
struct smc_event {
	__u64 ts_ns;
	__u64 label;
	__u64 a0_out;
	__u64 ns[NR_STAGES];
	__u32 pid;
	__u32 tid;
	__u32 client_id;
	__u32 fid;
	__u32 backend_calls;
	__u32 stages; /* bit per stage present */
};

#endif /* __TEEMEDLAT_H */
