/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The kernel as drivers/tee/optee/smc_vm.c sees it, in user space: the
 * series' VM-context code compiles against these headers unchanged, as
 * tools/testing/vma compiles mm/vma.c against vma_internal.h. Only what
 * smc_vm.c uses is here, each with the kernel's semantics where the tests
 * depend on them:
 *
 * - pages come from the harness (kshim.cpp): a page the code frees is
 *   released to the allocator (ASan poisons it), and its physical address
 *   leaves the physical address space, so a later access by the OP-TEE
 *   model is a report, not silent corruption; pins of user memory are
 *   pages of the process's own memory, their addresses valid while pinned;
 * - locks are pthread's, so the library's threads race as vCPUs do;
 * - capabilities, RLIMIT_MEMLOCK, current->mm and the user are the
 *   harness's (kshim_*), per thread where the kernel's are per task.
 *
 * Anything the code uses that is not here fails to compile: the shim is
 * checked by every build.
 */
#ifndef KSHIM_H
#define KSHIM_H

#include <errno.h>
#include <limits.h>
#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Types */
typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;
typedef __s64 s64;
typedef u64 phys_addr_t;
typedef unsigned int gfp_t;
typedef unsigned int umode_t;
typedef struct { unsigned int val; } kuid_t;

#define __user
#define __iomem
#define __percpu
#define __must_check
#ifndef __always_inline
#define __always_inline inline
#endif
#define fallthrough __attribute__((__fallthrough__))
#define __maybe_unused __attribute__((unused))

#define U32_MAX UINT32_MAX
#define BIT(n) (1UL << (n))
#define GENMASK(h, l) (((~0UL) << (l)) & (~0UL >> (63 - (h))))
#define DIV_ROUND_UP(n, d) (((n) + (d) - 1) / (d))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define lower_32_bits(n) ((u32)((n) & 0xffffffff))
#define upper_32_bits(n) ((u32)(((n) >> 16) >> 16))
#define READ_ONCE(x) (*(const volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, v) (*(volatile __typeof__(x) *)&(x) = (v))
#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))
#define min(a, b) ((a) < (b) ? (a) : (b))
#define max(a, b) ((a) > (b) ? (a) : (b))

/* Errors as pointers */
#define MAX_ERRNO 4095
#define IS_ERR_VALUE(x) ((unsigned long)(void *)(x) >= (unsigned long)-MAX_ERRNO)
static inline void *ERR_PTR(long error) { return (void *)error; }
static inline long PTR_ERR(const void *ptr) { return (long)ptr; }
static inline bool IS_ERR(const void *ptr) { return IS_ERR_VALUE((unsigned long)ptr); }
static inline bool IS_ERR_OR_NULL(const void *ptr) { return !ptr || IS_ERR(ptr); }
#ifndef ESHUTDOWN
#define ESHUTDOWN 108
#endif

/* Messages: counted, so a test can tell a warning happened */
void kshim_printk(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
#define KERN_WARNING 4
#define KERN_INFO 6
#ifndef pr_fmt
#define pr_fmt(fmt) fmt
#endif
#define pr_warn(fmt, ...) kshim_printk(KERN_WARNING, pr_fmt(fmt), ##__VA_ARGS__)
#define pr_warn_ratelimited pr_warn
#define pr_info(fmt, ...) kshim_printk(KERN_INFO, pr_fmt(fmt), ##__VA_ARGS__)
#define pr_err pr_warn

/* Lists, as include/linux/list.h */
struct list_head {
	struct list_head *next, *prev;
};
#define LIST_HEAD_INIT(name) { &(name), &(name) }
#define LIST_HEAD(name) struct list_head name = LIST_HEAD_INIT(name)
static inline void INIT_LIST_HEAD(struct list_head *l) { l->next = l->prev = l; }
static inline void __list_add(struct list_head *n, struct list_head *prev,
			      struct list_head *next)
{
	next->prev = n;
	n->next = next;
	n->prev = prev;
	prev->next = n;
}
static inline void list_add(struct list_head *n, struct list_head *h) { __list_add(n, h, h->next); }
static inline void list_add_tail(struct list_head *n, struct list_head *h) { __list_add(n, h->prev, h); }
static inline void list_del(struct list_head *e)
{
	e->next->prev = e->prev;
	e->prev->next = e->next;
	/* as LIST_POISON: a use after list_del faults */
	e->next = (struct list_head *)0x100;
	e->prev = (struct list_head *)0x122;
}
static inline void list_move_tail(struct list_head *e, struct list_head *h)
{
	e->next->prev = e->prev;
	e->prev->next = e->next;
	list_add_tail(e, h);
}
static inline bool list_empty(const struct list_head *h) { return h->next == h; }
static inline void list_splice(struct list_head *list, struct list_head *head)
{
	if (!list_empty(list)) {
		struct list_head *first = list->next, *last = list->prev, *at = head->next;

		first->prev = head;
		head->next = first;
		last->next = at;
		at->prev = last;
	}
}
#define list_entry(ptr, type, member) container_of(ptr, type, member)
#define list_first_entry(ptr, type, member) list_entry((ptr)->next, type, member)
#define list_next_entry(pos, member) list_entry((pos)->member.next, __typeof__(*(pos)), member)
#define list_for_each_entry(pos, head, member) \
	for (pos = list_first_entry(head, __typeof__(*pos), member); \
	     &pos->member != (head); pos = list_next_entry(pos, member))
#define list_for_each_entry_safe(pos, n, head, member) \
	for (pos = list_first_entry(head, __typeof__(*pos), member), \
	     n = list_next_entry(pos, member); &pos->member != (head); \
	     pos = n, n = list_next_entry(n, member))

/* Atomics */
typedef struct { int64_t counter; } atomic64_t;
static inline s64 atomic64_read(const atomic64_t *v) { return __atomic_load_n(&v->counter, __ATOMIC_SEQ_CST); }
static inline void atomic64_inc(atomic64_t *v) { __atomic_add_fetch(&v->counter, 1, __ATOMIC_SEQ_CST); }
static inline s64 atomic64_inc_return(atomic64_t *v) { return __atomic_add_fetch(&v->counter, 1, __ATOMIC_SEQ_CST); }
static inline s64 atomic64_add_return(s64 i, atomic64_t *v) { return __atomic_add_fetch(&v->counter, i, __ATOMIC_SEQ_CST); }
static inline void atomic64_sub(s64 i, atomic64_t *v) { __atomic_sub_fetch(&v->counter, i, __ATOMIC_SEQ_CST); }

/* Locks: pthread's, in opaque storage */
struct mutex { uint64_t opaque[8]; };
struct rw_semaphore { uint64_t opaque[8]; bool write_held; };
void mutex_init(struct mutex *m);
void mutex_lock(struct mutex *m);
void mutex_unlock(struct mutex *m);
void init_rwsem(struct rw_semaphore *s);
void down_read(struct rw_semaphore *s);
void up_read(struct rw_semaphore *s);
void down_write(struct rw_semaphore *s);
void up_write(struct rw_semaphore *s);
void kshim_assert_held_write(struct rw_semaphore *s, const char *what);
#define lockdep_assert_held_write(s) kshim_assert_held_write(s, #s)
static inline void cond_resched(void) {}

/* Reference counts */
struct kref { int refcount; };
static inline void kref_init(struct kref *k) { __atomic_store_n(&k->refcount, 1, __ATOMIC_SEQ_CST); }
void kshim_bug(const char *what);
static inline void kref_get(struct kref *k)
{
	if (__atomic_fetch_add(&k->refcount, 1, __ATOMIC_SEQ_CST) <= 0)
		kshim_bug("kref_get of a freed object");
}
static inline int kref_put(struct kref *k, void (*release)(struct kref *))
{
	int n = __atomic_sub_fetch(&k->refcount, 1, __ATOMIC_SEQ_CST);

	if (n < 0)
		kshim_bug("kref_put below zero");
	if (n)
		return 0;
	release(k);
	return 1;
}

/* Memory: the harness's (kshim.cpp) */
#define GFP_KERNEL 0x1u
#define GFP_KERNEL_ACCOUNT 0x3u
#define __GFP_ZERO 0x100u
void *kshim_kmalloc(size_t size, gfp_t gfp);
void kfree(const void *p);
#define kmalloc(size, gfp) kshim_kmalloc(size, gfp)
#define kzalloc(size, gfp) kshim_kmalloc(size, (gfp) | __GFP_ZERO)
#define kzalloc_obj(obj, gfp) ((__typeof__(&(obj)))kzalloc(sizeof(obj), gfp))
#define kvcalloc(n, size, gfp) kzalloc((size_t)(n) * (size), gfp)
#define kvfree(p) kfree(p)
void *kmemdup(const void *src, size_t len, gfp_t gfp);

/* Pages: 4 KiB, as OP-TEE's; each with a made-up physical address */
#define PAGE_SHIFT 12
#define PAGE_SIZE (1UL << PAGE_SHIFT)
#define PAGE_MASK (~(PAGE_SIZE - 1))
struct page;
struct page *alloc_page(gfp_t gfp);
void __free_page(struct page *page);
void *page_address(const struct page *page);
phys_addr_t page_to_phys(const struct page *page);
phys_addr_t virt_to_phys(const void *addr);

/* User memory: the process's own; "user" pointers are plain pointers */
#define u64_to_user_ptr(x) ((void __user *)(uintptr_t)(x))
unsigned long copy_from_user(void *to, const void __user *from, unsigned long n);
unsigned long copy_to_user(void __user *to, const void *from, unsigned long n);
void *memdup_user(const void __user *src, size_t len);
void *vmemdup_array_user(const void __user *src, size_t n, size_t size);
#define FOLL_WRITE 0x1u
#define FOLL_LONGTERM 0x2u
int pin_user_pages_fast(unsigned long start, int nr_pages, unsigned int gup_flags,
			struct page **pages);
void unpin_user_pages(struct page **pages, unsigned long npages);
void unpin_user_pages_dirty_lock(struct page **pages, unsigned long npages, bool dirty);

/* The task: its address space, user, capabilities, limits */
struct mm_struct {
	atomic64_t pinned_vm;
	int refs;
};
struct task_struct {
	struct mm_struct *mm;
};
struct task_struct *kshim_current(void);
#define current (kshim_current())
void mmgrab(struct mm_struct *mm);
void mmdrop(struct mm_struct *mm);
#define CAP_IPC_LOCK 14
#define CAP_SYS_RESOURCE 24
bool capable(int cap);
#define RLIMIT_MEMLOCK 8
unsigned long rlimit(unsigned int limit);
kuid_t current_euid(void);
static inline bool uid_eq(kuid_t a, kuid_t b) { return a.val == b.val; }

/* Modules: parameters are registered by name, for the harness to set */
struct module;
#define THIS_MODULE ((struct module *)0)
#define MODULE_PARM_DESC(name, desc)
void kshim_register_param(const char *name, unsigned int *value);
#define module_param(name, type, perm) \
	static void __attribute__((constructor)) kshim_param_##name(void) \
	{ kshim_register_param(#name, &name); }

/* xarray: an ordered table, allocating ids, with its own lock */
struct xarray {
	struct mutex lock;
	void *table; /* kshim.cpp's */
	unsigned int flags;
};
struct xa_limit { u32 max, min; };
#define XA_LIMIT(_min, _max) ((struct xa_limit){ .max = (_max), .min = (_min) })
#define xa_limit_31b XA_LIMIT(0, INT_MAX)
#define XA_FLAGS_ALLOC 0x1u
#define XA_FLAGS_ALLOC1 0x2u
#define XA_FLAGS_ACCOUNT 0x4u
void xa_init_flags(struct xarray *xa, unsigned int flags);
void xa_destroy(struct xarray *xa);
void *xa_load(struct xarray *xa, unsigned long index);
void *xa_erase(struct xarray *xa, unsigned long index);
void *xa_store(struct xarray *xa, unsigned long index, void *entry, gfp_t gfp);
int xa_alloc(struct xarray *xa, u32 *id, void *entry, struct xa_limit limit, gfp_t gfp);
int xa_alloc_cyclic(struct xarray *xa, u32 *id, void *entry, struct xa_limit limit,
		    u32 *next, gfp_t gfp);
void *kshim_xa_find(struct xarray *xa, unsigned long *index);
#define xa_lock(xa) mutex_lock(&(xa)->lock)
#define xa_unlock(xa) mutex_unlock(&(xa)->lock)
/* Without the lock, as the kernel's under RCU: callers keep it stable */
#define xa_for_each(xa, index, entry) \
	for (index = 0, entry = kshim_xa_find(xa, &index); entry; \
	     index++, entry = kshim_xa_find(xa, &index))

/* ida (series v3): ids from an xarray */
struct ida { struct xarray xa; };
static inline void ida_init(struct ida *ida) { xa_init_flags(&ida->xa, XA_FLAGS_ALLOC); }
static inline void ida_destroy(struct ida *ida) { xa_destroy(&ida->xa); }
static inline int ida_alloc_range(struct ida *ida, unsigned int min, unsigned int max, gfp_t gfp)
{
	u32 id;
	int rc = xa_alloc(&ida->xa, &id, (void *)1, XA_LIMIT(min, max), gfp);

	return rc ? -ENOSPC : (int)id;
}
static inline void ida_free(struct ida *ida, unsigned int id) { xa_erase(&ida->xa, id); }

#ifdef __cplusplus
}
#endif

#endif /* KSHIM_H */
