/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The harness's side of the kernel shim (kshim.cpp): what the code under
 * test does not see, and the test and the OP-TEE model do.
 */
#ifndef KSHIM_RUNTIME_H
#define KSHIM_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct mm_struct;
struct tee_device;
struct tee_desc;

/* The client the kernel works for in this thread: pages it allocates or
 * pins from now on are that client's */
void kshim_set_owner(uint32_t client_id);
uint32_t kshim_owner(void);

/* Why kshim_phys_map() refused */
enum {
	KSHIM_PHYS_OK,
	KSHIM_PHYS_CROSSES,	/* the range crosses a page */
	KSHIM_PHYS_NEVER,	/* no page had this address */
	KSHIM_PHYS_GONE,	/* a page had it: freed or unpinned since */
	KSHIM_PHYS_NOT_OURS,	/* a page of another client */
};
/* The host address of [pa, pa + len) for the OP-TEE model, working for
 * @client: a page the kernel allocated for it or one it pinned, now */
void *kshim_phys_map(uint64_t pa, size_t len, uint32_t client, int *why);

struct kshim_stats {
	uint64_t kernel_pages;	/* allocated pages and list pages live */
	uint64_t user_pages;	/* user pages pinned (by anyone) */
	uint64_t dirty_unpins, clean_unpins;
	long allocs;		/* kmalloc'd objects live */
	uint64_t warnings;	/* pr_warn and worse */
};
void kshim_stats(struct kshim_stats *st);

/* module_param()s of the code, by name */
int kshim_set_param(const char *name, unsigned int value);
int kshim_get_param(const char *name, unsigned int *value);

/* This thread's task: @mm NULL is the process's; @caps a mask of CAP_* */
void kshim_set_task(struct mm_struct *mm, uint32_t uid, uint64_t caps);
struct mm_struct *kshim_process_mm(void);
/* The process's mm->pinned_vm, in pages */
long kshim_pinned_vm(void);
/* This thread's RLIMIT_MEMLOCK, in pages (~0 for none), and capabilities */
void kshim_set_memlock(unsigned long pages);
void kshim_drop_cap(int cap);
/* An address space of another process (until kshim_exit_mm(): the process
 * is gone, the code may hold it longer), and this thread's pinned_vm */
struct mm_struct *kshim_new_mm(void);
void kshim_exit_mm(struct mm_struct *mm);
long kshim_current_pinned_vm(void);
/* The physical address of a page of the process that no client pinned:
 * OP-TEE's model touching it is a report */
uint64_t kshim_phys_foreign(const void *va);

typedef void(kshim_trace_fn)(void *arg, const char *event, uint32_t client_id, uint64_t a,
			     uint64_t b, uint64_t c);
void kshim_set_trace(kshim_trace_fn *fn, void *arg);

const struct tee_desc *kshim_tee_desc(struct tee_device *teedev);

/* A scheduler of the threads that enter the code (NULL: none). Called by
 * such a thread before it takes a lock (KSHIM_SCHED_LOCK), and again while
 * the lock is held by another (KSHIM_SCHED_BLOCKED); it returns when the
 * thread may go on, true if it is one the scheduler runs (false: the
 * thread takes the lock as usual). */
enum { KSHIM_SCHED_LOCK, KSHIM_SCHED_BLOCKED };
typedef bool(kshim_sched_fn)(void *arg, int why);
void kshim_set_sched(kshim_sched_fn *fn, void *arg);

#ifdef __cplusplus
}
#endif

#endif
