// SPDX-License-Identifier: BSD-2-Clause
// Where the threads of one VM meet — its vCPUs and the VMM — for a test
// that schedules them itself (tests/explore, the interleaving explorer):
// the library tells an observer each time a thread is about to take the
// VM's lock, and each time it must wait for the others. A VM has no
// observer outside those tests; each point then costs one test of a
// pointer. Every interleaving that matters passes through these points:
// the library's state is touched only under the lock, and the backend is
// called only outside it (the explorer's backend is a point too).
#pragma once

#include <mutex>

namespace teemed {

enum class SyncPoint {
	Lock, // about to take the VM's lock
	Wait, // waiting for the other threads (close(): the vCPUs inside)
};

class SyncObserver {
public:
	virtual ~SyncObserver() = default;
	virtual void reached(SyncPoint p) = 0;
};

// The VM's lock: a mutex that tells the observer first.
class VmLock {
public:
	void lock()
	{
		if (observer_)
			observer_->reached(SyncPoint::Lock);
		m_.lock();
	}
	void unlock() { m_.unlock(); }
	// Waiting with the lock held by @g (a std::unique_lock<VmLock>) until
	// @done: on @cv, or through the observer, which runs the others.
	template <typename Guard, typename Cv, typename Pred> void wait(Guard &g, Cv &cv, Pred done)
	{
		while (!done()) {
			if (!observer_) {
				cv.wait(g);
				continue;
			}
			g.unlock();
			observer_->reached(SyncPoint::Wait);
			g.lock();
		}
	}
	void set_observer(SyncObserver *o) { observer_ = o; }

private:
	friend class VmAccess; // looks without being a point
	std::mutex m_;
	SyncObserver *observer_ = nullptr;
};

} // namespace teemed
