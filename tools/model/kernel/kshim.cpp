// SPDX-License-Identifier: GPL-2.0-only
// The kernel runtime smc_vm.c runs on in the harness (include/linux/kshim.h
// declares it): memory, pages and their physical addresses, pins of the
// process's own memory, locks, the task, the xarray, module parameters,
// the TEE device. The physical address space is here too: the OP-TEE
// model reaches normal-world memory only through kshim_phys_map(), which
// answers only for a page that is, at that moment, allocated by the
// kernel for, or pinned by, the client asking.
#include "kshim_runtime.h"

#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

extern "C" {
#include "linux/kshim.h"
#include "linux/tee_core.h"
#include "optee_private.h"
}
// The kernel's min() and max() are macros: std's are used here.
#undef min
#undef max

namespace {

// ---- the physical address space ------------------------------------------

struct Frame {
	uint64_t pa;
	std::byte *host;
	bool kernel;                    // allocated by the kernel, else pinned
	uint32_t owner;                 // the client it was allocated for
	std::map<uint32_t, int> pins;   // user page: pins by client
	bool dirty = false;
	bool foreign = false;           // a page of the process no client pinned
};

// A struct page is a frame; its address never moves while it lives.
struct Phys {
	std::mutex lock;
	std::map<uint64_t, Frame *> by_pa;
	std::map<const std::byte *, Frame *> by_host; // page-aligned host address
	// Addresses are never reused: one below next_pa and not in by_pa was
	// a page once and is no more.
	static constexpr uint64_t first_pa = 0x4000'0000ull; // far from 0 and from 1
	uint64_t next_pa = first_pa;
	uint64_t kernel_pages = 0;
	uint64_t user_pages = 0;
	uint64_t dirty_unpins = 0;
	uint64_t clean_unpins = 0;

	// At exit, what is left is the process's pages the tests asked the
	// address of (kshim_phys_foreign): not the code's, not a leak.
	~Phys()
	{
		for (auto &[pa, f] : by_pa)
			delete f;
	}
};

Phys &phys()
{
	static Phys p;
	return p;
}

thread_local uint32_t t_owner;

Frame *frame_new(std::byte *host, bool kernel, uint32_t owner)
{
	Phys &ph = phys();
	// The process's memory was given back and handed out again: a
	// foreign page's address there is stale.
	if (auto it = ph.by_host.find(host); it != ph.by_host.end()) {
		Frame *old = it->second;
		if (!old->foreign || !old->pins.empty())
			kshim_bug("two pages at one address");
		ph.by_pa.erase(old->pa);
		ph.by_host.erase(it);
		delete old;
	}
	auto *f = new Frame{ph.next_pa, host, kernel, owner, {}};
	ph.next_pa += PAGE_SIZE;
	ph.by_pa.emplace(f->pa, f);
	ph.by_host.emplace(host, f);
	(kernel ? ph.kernel_pages : ph.user_pages)++;
	return f;
}

void frame_gone(Frame *f)
{
	Phys &ph = phys();
	ph.by_pa.erase(f->pa);
	ph.by_host.erase(f->host);
	(f->kernel ? ph.kernel_pages : ph.user_pages)--;
	delete f;
}

std::byte *page_align(const void *p)
{
	return reinterpret_cast<std::byte *>(reinterpret_cast<uintptr_t>(p) & PAGE_MASK);
}

// ---- the rest of the kernel the code sees ----------------------------------

struct Params {
	std::mutex lock;
	std::map<std::string, unsigned int *> by_name;
};

Params &params()
{
	static Params p;
	return p;
}

struct Log {
	std::mutex lock;
	std::vector<std::string> lines;
	uint64_t warnings = 0;
};

Log &klog()
{
	static Log l;
	return l;
}

kshim_trace_fn *g_trace;
void *g_trace_arg;

struct mm_struct g_process_mm;
thread_local struct task_struct t_task = {&g_process_mm};
thread_local uint64_t t_caps = ~0ull;
thread_local uint32_t t_uid;
thread_local unsigned long t_memlock = ~0ul;

std::atomic<long> g_allocs;

struct TeeDevice {
	const struct tee_desc *desc;
	void *driver_data;
	bool registered;
};

} // namespace

// ---- memory ------------------------------------------------------------------

extern "C" void *kshim_kmalloc(size_t size, gfp_t gfp)
{
	void *p = std::malloc(size ? size : 1);
	if (!p)
		return nullptr;
	// Not zeroed: a fixed poison, not what the allocator held before, so
	// that a run depends on its input only (and a read of memory the code
	// never wrote shows as 0xaa, as with page_poison=1).
	std::memset(p, gfp & __GFP_ZERO ? 0 : 0xaa, size);
	g_allocs++;
	return p;
}

extern "C" void kfree(const void *p)
{
	if (!p)
		return;
	g_allocs--;
	std::free(const_cast<void *>(p));
}

extern "C" void *kmemdup(const void *src, size_t len, gfp_t gfp)
{
	void *p = kshim_kmalloc(len, gfp);
	if (p)
		std::memcpy(p, src, len);
	return p;
}

extern "C" struct page *alloc_page(gfp_t gfp)
{
	auto *host = static_cast<std::byte *>(std::aligned_alloc(PAGE_SIZE, PAGE_SIZE));
	if (!host)
		return nullptr;
	std::memset(host, gfp & __GFP_ZERO ? 0 : 0xaa, PAGE_SIZE); // as kmalloc's
	std::lock_guard g(phys().lock);
	return reinterpret_cast<struct page *>(frame_new(host, true, t_owner));
}

extern "C" void __free_page(struct page *page)
{
	auto *f = reinterpret_cast<Frame *>(page);
	std::byte *host = f->host;
	{
		std::lock_guard g(phys().lock);
		frame_gone(f);
	}
	// Gone to the allocator, poisoned by ASan: OP-TEE's model must not
	// reach it any more, and cannot through its physical address.
	std::free(host);
}

extern "C" void *page_address(const struct page *page)
{
	return reinterpret_cast<const Frame *>(page)->host;
}

extern "C" phys_addr_t page_to_phys(const struct page *page)
{
	return reinterpret_cast<const Frame *>(page)->pa;
}

extern "C" phys_addr_t virt_to_phys(const void *addr)
{
	std::lock_guard g(phys().lock);
	auto it = phys().by_host.find(page_align(addr));
	if (it == phys().by_host.end())
		kshim_bug("virt_to_phys of memory that is no page of the kernel's");
	return it->second->pa + (reinterpret_cast<uintptr_t>(addr) & ~PAGE_MASK);
}

// ---- user memory -------------------------------------------------------------

static bool user_range_ok(const void *p, unsigned long n)
{
	// Page 0 is never a user address the harness hands out: a NULL or
	// small pointer of a hostile VMM faults, as in the kernel.
	return reinterpret_cast<uintptr_t>(p) >= PAGE_SIZE || !n;
}

extern "C" unsigned long copy_from_user(void *to, const void __user *from, unsigned long n)
{
	if (!user_range_ok(from, n))
		return n;
	std::memcpy(to, from, n);
	return 0;
}

extern "C" unsigned long copy_to_user(void __user *to, const void *from, unsigned long n)
{
	if (!user_range_ok(to, n))
		return n;
	std::memcpy(to, from, n);
	return 0;
}

extern "C" void *memdup_user(const void __user *src, size_t len)
{
	void *p = kshim_kmalloc(len, GFP_KERNEL);
	if (!p)
		return ERR_PTR(-ENOMEM);
	if (copy_from_user(p, src, len)) {
		kfree(p);
		return ERR_PTR(-EFAULT);
	}
	return p;
}

extern "C" void *vmemdup_array_user(const void __user *src, size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		return ERR_PTR(-EOVERFLOW);
	return memdup_user(src, n * size);
}

extern "C" int pin_user_pages_fast(unsigned long start, int nr_pages, unsigned int,
				   struct page **pages)
{
	std::byte *va = reinterpret_cast<std::byte *>(start);
	unsigned char in_core;
	int done;

	std::lock_guard g(phys().lock);
	for (done = 0; done < nr_pages; done++, va += PAGE_SIZE) {
		// mapped in this process, as the page tables would say
		if (!start || mincore(va, PAGE_SIZE, &in_core))
			break;
		auto it = phys().by_host.find(va);
		Frame *f = it != phys().by_host.end() ? it->second : nullptr;
		if (f && f->kernel)
			kshim_bug("a user page that is a kernel page");
		if (!f)
			f = frame_new(va, false, t_owner);
		f->pins[t_owner]++;
		pages[done] = reinterpret_cast<struct page *>(f);
	}
	return done ? done : -EFAULT;
}

static void unpin(struct page **pages, unsigned long n, bool dirty)
{
	std::lock_guard g(phys().lock);
	for (unsigned long i = 0; i < n; i++) {
		auto *f = reinterpret_cast<Frame *>(pages[i]);
		// The pin's owner: the page may be pinned by several clients.
		auto it = f->pins.find(t_owner);
		if (it == f->pins.end())
			it = f->pins.begin();
		if (it == f->pins.end())
			kshim_bug("unpin of a page not pinned");
		(dirty ? phys().dirty_unpins : phys().clean_unpins)++;
		if (!--it->second)
			f->pins.erase(it);
		if (f->pins.empty() && !f->foreign)
			frame_gone(f);
	}
}

extern "C" void unpin_user_pages(struct page **pages, unsigned long npages)
{
	unpin(pages, npages, false);
}

extern "C" void unpin_user_pages_dirty_lock(struct page **pages, unsigned long npages,
					    bool dirty)
{
	unpin(pages, npages, dirty);
}

// ---- the task ----------------------------------------------------------------

extern "C" struct task_struct *kshim_current(void) { return &t_task; }
extern "C" void mmgrab(struct mm_struct *mm) { __atomic_add_fetch(&mm->refs, 1, __ATOMIC_SEQ_CST); }
// An mm_struct of another process lives while that process runs
// (kshim_new_mm's reference, dropped by kshim_exit_mm) and while the code
// holds it; the process's own never goes.
extern "C" void mmdrop(struct mm_struct *mm)
{
	const int left = __atomic_sub_fetch(&mm->refs, 1, __ATOMIC_SEQ_CST);
	if (left < 0)
		kshim_bug("mmdrop below zero");
	if (!left && mm != &g_process_mm)
		delete mm;
}
extern "C" bool capable(int cap) { return t_caps & (1ull << cap); }
extern "C" unsigned long rlimit(unsigned int) { return t_memlock; }
extern "C" kuid_t current_euid(void) { return kuid_t{t_uid}; }

// ---- locks -------------------------------------------------------------------

static_assert(sizeof(pthread_mutex_t) <= sizeof(((struct mutex *)nullptr)->opaque));
static_assert(sizeof(pthread_rwlock_t) <= sizeof(((struct rw_semaphore *)nullptr)->opaque));

extern "C" void mutex_init(struct mutex *m)
{
	pthread_mutex_init(reinterpret_cast<pthread_mutex_t *>(m->opaque), nullptr);
}
// A test may schedule the threads that enter the code itself (the fuzzer's
// VMM threads, one at a time): before each lock the thread asks the
// scheduler for its turn, and while the lock is someone else's it waits as
// the scheduler says, instead of in the kernel's queue.
static kshim_sched_fn *g_sched;
static void *g_sched_arg;

extern "C" void kshim_set_sched(kshim_sched_fn *fn, void *arg)
{
	g_sched = fn;
	g_sched_arg = arg;
}

template <typename Try, typename Block> static void take(Try try_take, Block block)
{
	if (!g_sched || !g_sched(g_sched_arg, KSHIM_SCHED_LOCK)) {
		block();
		return;
	}
	while (!try_take())
		g_sched(g_sched_arg, KSHIM_SCHED_BLOCKED);
}

extern "C" void mutex_lock(struct mutex *m)
{
	auto *pm = reinterpret_cast<pthread_mutex_t *>(m->opaque);
	take([&] { return !pthread_mutex_trylock(pm); }, [&] { pthread_mutex_lock(pm); });
}
extern "C" void mutex_unlock(struct mutex *m)
{
	pthread_mutex_unlock(reinterpret_cast<pthread_mutex_t *>(m->opaque));
}
extern "C" void init_rwsem(struct rw_semaphore *s)
{
	pthread_rwlock_init(reinterpret_cast<pthread_rwlock_t *>(s->opaque), nullptr);
	s->write_held = false;
}
extern "C" void down_read(struct rw_semaphore *s)
{
	auto *rw = reinterpret_cast<pthread_rwlock_t *>(s->opaque);
	take([&] { return !pthread_rwlock_tryrdlock(rw); }, [&] { pthread_rwlock_rdlock(rw); });
}
extern "C" void up_read(struct rw_semaphore *s)
{
	pthread_rwlock_unlock(reinterpret_cast<pthread_rwlock_t *>(s->opaque));
}
extern "C" void down_write(struct rw_semaphore *s)
{
	auto *rw = reinterpret_cast<pthread_rwlock_t *>(s->opaque);
	take([&] { return !pthread_rwlock_trywrlock(rw); }, [&] { pthread_rwlock_wrlock(rw); });
	s->write_held = true;
}
extern "C" void up_write(struct rw_semaphore *s)
{
	s->write_held = false;
	pthread_rwlock_unlock(reinterpret_cast<pthread_rwlock_t *>(s->opaque));
}
extern "C" void kshim_assert_held_write(struct rw_semaphore *s, const char *what)
{
	if (!s->write_held)
		kshim_bug(what);
}

// ---- xarray ------------------------------------------------------------------

// As the kernel's, an empty xarray holds no memory: the table comes with
// the first entry and goes with the last, so a context freed with entries
// left in one is a leak LeakSanitizer names, and one freed empty is not.
using XaTable = std::map<unsigned long, void *>;

static XaTable &table(struct xarray *xa)
{
	if (!xa->table)
		xa->table = new XaTable;
	return *static_cast<XaTable *>(xa->table);
}

static void settle(struct xarray *xa)
{
	if (xa->table && table(xa).empty()) {
		delete static_cast<XaTable *>(xa->table);
		xa->table = nullptr;
	}
}

extern "C" void xa_init_flags(struct xarray *xa, unsigned int flags)
{
	mutex_init(&xa->lock);
	xa->table = nullptr;
	xa->flags = flags;
}

extern "C" void xa_destroy(struct xarray *xa)
{
	delete static_cast<XaTable *>(xa->table);
	xa->table = nullptr;
}

extern "C" void *xa_load(struct xarray *xa, unsigned long index)
{
	xa_lock(xa);
	void *e = nullptr;
	if (xa->table) {
		auto it = table(xa).find(index);
		e = it == table(xa).end() ? nullptr : it->second;
	}
	xa_unlock(xa);
	return e;
}

extern "C" void *xa_erase(struct xarray *xa, unsigned long index)
{
	xa_lock(xa);
	void *e = nullptr;
	if (xa->table) {
		if (auto it = table(xa).find(index); it != table(xa).end()) {
			e = it->second;
			table(xa).erase(it);
		}
		settle(xa);
	}
	xa_unlock(xa);
	return e;
}

// As the kernel's: storing NULL in an allocating xarray reserves the
// index (a zero entry: loads and walks see NULL, allocations skip it).
extern "C" void *xa_store(struct xarray *xa, unsigned long index, void *entry, gfp_t)
{
	xa_lock(xa);
	void *old = nullptr;
	auto &t = table(xa);
	if (auto it = t.find(index); it != t.end())
		old = it->second;
	if (entry || (xa->flags & (XA_FLAGS_ALLOC | XA_FLAGS_ALLOC1)))
		t[index] = entry;
	else
		t.erase(index);
	settle(xa);
	xa_unlock(xa);
	return old;
}

// The lowest free id in [from, limit.max], or none.
static bool free_id(XaTable &t, uint32_t from, struct xa_limit limit, uint32_t *id)
{
	for (uint64_t i = from; i <= limit.max; i++)
		if (!t.count(i)) {
			*id = uint32_t(i);
			return true;
		}
	return false;
}

static uint32_t first_id(struct xarray *xa, struct xa_limit limit)
{
	return std::max<uint32_t>(limit.min, (xa->flags & XA_FLAGS_ALLOC1) ? 1 : 0);
}

extern "C" int xa_alloc(struct xarray *xa, u32 *id, void *entry, struct xa_limit limit, gfp_t)
{
	xa_lock(xa);
	uint32_t n;
	int rc = -EBUSY;
	if (free_id(table(xa), first_id(xa, limit), limit, &n)) {
		table(xa)[n] = entry;
		*id = n;
		rc = 0;
	}
	settle(xa);
	xa_unlock(xa);
	return rc;
}

extern "C" int xa_alloc_cyclic(struct xarray *xa, u32 *id, void *entry, struct xa_limit limit,
			       u32 *next, gfp_t)
{
	const uint32_t min = first_id(xa, limit);
	xa_lock(xa);
	uint32_t n;
	int rc = -EBUSY;
	bool wrapped = false;
	if (free_id(table(xa), std::max(*next, min), limit, &n) ||
	    (wrapped = free_id(table(xa), min, limit, &n))) {
		table(xa)[n] = entry;
		*id = n;
		*next = n + 1;
		rc = wrapped ? 1 : 0;
	}
	settle(xa);
	xa_unlock(xa);
	return rc;
}

extern "C" void *kshim_xa_find(struct xarray *xa, unsigned long *index)
{
	if (!xa->table)
		return nullptr;
	auto it = table(xa).lower_bound(*index);
	while (it != table(xa).end() && !it->second)
		++it; // reserved
	if (it == table(xa).end())
		return nullptr;
	*index = it->first;
	return it->second;
}

// ---- modules, messages, traces, bugs ----------------------------------------

extern "C" void kshim_register_param(const char *name, unsigned int *value)
{
	std::lock_guard g(params().lock);
	params().by_name[name] = value;
}

extern "C" void kshim_printk(int level, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	std::lock_guard g(klog().lock);
	// The last lines, as dmesg keeps them: a fuzzer prints millions.
	if (klog().lines.size() >= 256)
		klog().lines.erase(klog().lines.begin());
	klog().lines.emplace_back(buf);
	if (level <= KERN_WARNING)
		klog().warnings++;
	if (getenv("KSHIM_VERBOSE"))
		fprintf(stderr, "kshim: %s", buf);
}

extern "C" void kshim_trace(const char *event, u32 client_id, u64 a, u64 b, u64 c)
{
	if (g_trace)
		g_trace(g_trace_arg, event, client_id, a, b, c);
}

extern "C" void kshim_bug(const char *what)
{
	fprintf(stderr, "kshim: BUG: %s\n", what);
	abort();
}

// ---- the TEE device (tee_core.c's part) --------------------------------------

extern "C" struct tee_device *tee_device_alloc(const struct tee_desc *teedesc, struct device *,
					       struct tee_shm_pool *, void *driver_data)
{
	auto *d = new TeeDevice{teedesc, driver_data, false};
	return reinterpret_cast<struct tee_device *>(d);
}

extern "C" int tee_device_register(struct tee_device *teedev)
{
	reinterpret_cast<TeeDevice *>(teedev)->registered = true;
	return 0;
}

extern "C" void tee_device_unregister(struct tee_device *teedev)
{
	delete reinterpret_cast<TeeDevice *>(teedev);
}

extern "C" void *tee_get_drvdata(struct tee_device *teedev)
{
	return reinterpret_cast<TeeDevice *>(teedev)->driver_data;
}

extern "C" const struct tee_desc *kshim_tee_desc(struct tee_device *teedev)
{
	return reinterpret_cast<TeeDevice *>(teedev)->desc;
}

// ---- what smc_abi.c and core.c give smc_vm.c ---------------------------------

extern "C" int optee_check_mem_type(unsigned long, size_t)
{
	return 0; // the process's memory is normal memory
}

// OP-TEE's page list format: 511 entries and a link per 4 KiB page.
extern "C" u64 *optee_allocate_pages_list(size_t num_entries)
{
	const size_t pages = DIV_ROUND_UP(num_entries, PAGE_SIZE / sizeof(u64) - 1);
	auto *host = static_cast<std::byte *>(std::aligned_alloc(PAGE_SIZE, pages * PAGE_SIZE));
	if (!host)
		return nullptr;
	std::memset(host, 0, pages * PAGE_SIZE);
	std::lock_guard g(phys().lock);
	for (size_t i = 0; i < pages; i++)
		frame_new(host + i * PAGE_SIZE, true, t_owner);
	return reinterpret_cast<u64 *>(host);
}

extern "C" void optee_free_pages_list(void *list, size_t num_entries)
{
	const size_t pages = DIV_ROUND_UP(num_entries, PAGE_SIZE / sizeof(u64) - 1);
	auto *host = static_cast<std::byte *>(list);
	{
		std::lock_guard g(phys().lock);
		for (size_t i = 0; i < pages; i++)
			frame_gone(phys().by_host.at(host + i * PAGE_SIZE));
	}
	std::free(host);
}

extern "C" void optee_fill_pages_list(u64 *dst, struct page **pages, int num_pages,
				      size_t page_offset)
{
	const size_t per_page = PAGE_SIZE / sizeof(u64) - 1;
	(void)page_offset; // PAGE_SIZE is OP-TEE's: the offset is buf_ptr's
	for (int i = 0, n = 0; i < num_pages; i++, n++) {
		if (n == int(per_page)) {
			dst[per_page] = virt_to_phys(dst + per_page + 1);
			dst += per_page + 1;
			n = 0;
		}
		dst[n] = page_to_phys(pages[i]);
	}
}

extern "C" int optee_smc_vm_created(optee_invoke_fn *invoke_fn, u32 client_id)
{
	struct arm_smccc_res res;
	invoke_fn(OPTEE_SMC_VM_CREATED, client_id, 0, 0, 0, 0, 0, 0, &res);
	if (res.a0 == OPTEE_SMC_RETURN_OK)
		return 0;
	return res.a0 == OPTEE_SMC_RETURN_ENOTAVAIL ? -ENOSPC : -EIO;
}

extern "C" int optee_smc_vm_destroyed(optee_invoke_fn *invoke_fn, u32 client_id)
{
	struct arm_smccc_res res;
	invoke_fn(OPTEE_SMC_VM_DESTROYED, client_id, 0, 0, 0, 0, 0, 0, &res);
	if (res.a0 == OPTEE_SMC_RETURN_OK)
		return 0;
	kshim_printk(KERN_WARNING, "VM_DESTROYED of client %u failed: %#lx\n", client_id, res.a0);
	return -EIO;
}

// ---- the harness's side --------------------------------------------------------

extern "C" void kshim_set_owner(uint32_t client_id) { t_owner = client_id; }
extern "C" uint32_t kshim_owner(void) { return t_owner; }

extern "C" void *kshim_phys_map(uint64_t pa, size_t len, uint32_t client, int *why)
{
	const uint64_t base = pa & PAGE_MASK;
	std::lock_guard g(phys().lock);
	auto it = phys().by_pa.find(base);
	*why = KSHIM_PHYS_OK;
	if (len > PAGE_SIZE - (pa & ~PAGE_MASK)) {
		*why = KSHIM_PHYS_CROSSES;
		return nullptr;
	}
	if (it == phys().by_pa.end()) {
		*why = base >= Phys::first_pa && base < phys().next_pa ? KSHIM_PHYS_GONE
								    : KSHIM_PHYS_NEVER;
		return nullptr;
	}
	const Frame *f = it->second;
	if (f->kernel ? f->owner != client : !f->pins.count(client)) {
		*why = KSHIM_PHYS_NOT_OURS;
		return nullptr;
	}
	return f->host + (pa & ~PAGE_MASK);
}

extern "C" void kshim_stats(struct kshim_stats *st)
{
	std::lock_guard g(phys().lock);
	st->kernel_pages = phys().kernel_pages;
	st->user_pages = phys().user_pages;
	st->dirty_unpins = phys().dirty_unpins;
	st->clean_unpins = phys().clean_unpins;
	st->allocs = g_allocs.load();
	std::lock_guard l(klog().lock);
	st->warnings = klog().warnings;
}

extern "C" int kshim_set_param(const char *name, unsigned int value)
{
	std::lock_guard g(params().lock);
	auto it = params().by_name.find(name);
	if (it == params().by_name.end())
		return -ENOENT;
	*it->second = value;
	return 0;
}

extern "C" int kshim_get_param(const char *name, unsigned int *value)
{
	std::lock_guard g(params().lock);
	auto it = params().by_name.find(name);
	if (it == params().by_name.end())
		return -ENOENT;
	*value = *it->second;
	return 0;
}

extern "C" void kshim_set_task(struct mm_struct *mm, uint32_t uid, uint64_t caps)
{
	t_task.mm = mm ? mm : &g_process_mm;
	t_uid = uid;
	t_caps = caps;
}

extern "C" void kshim_set_memlock(unsigned long pages)
{
	t_memlock = pages == ~0ul ? ~0ul : pages << PAGE_SHIFT;
}

extern "C" void kshim_drop_cap(int cap) { t_caps &= ~(1ull << cap); }

extern "C" struct mm_struct *kshim_new_mm(void) { return new mm_struct{{0}, 1}; }
extern "C" void kshim_exit_mm(struct mm_struct *mm) { mmdrop(mm); }

extern "C" long kshim_current_pinned_vm(void) { return long(atomic64_read(&t_task.mm->pinned_vm)); }

extern "C" uint64_t kshim_phys_foreign(const void *va)
{
	std::byte *page = page_align(va);
	std::lock_guard g(phys().lock);
	auto it = phys().by_host.find(page);
	Frame *f = it != phys().by_host.end() ? it->second : frame_new(page, false, ~0u);
	f->foreign = true;
	if (!f->kernel && f->pins.empty())
		phys().user_pages--; // not pinned: not counted
	return f->pa + (reinterpret_cast<uintptr_t>(va) & ~PAGE_MASK);
}

extern "C" struct mm_struct *kshim_process_mm(void) { return &g_process_mm; }
extern "C" long kshim_pinned_vm(void) { return long(atomic64_read(&g_process_mm.pinned_vm)); }

extern "C" void kshim_set_trace(kshim_trace_fn *fn, void *arg)
{
	g_trace = fn;
	g_trace_arg = arg;
}
