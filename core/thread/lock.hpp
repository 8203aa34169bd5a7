// The cooperative _thread.lock: what threading.Lock(), Condition, Event,
// Semaphore and queue.Queue wait on once _thread is patched. Acquiring a
// held lock parks the task (the hub runs others); a real OS thread (the
// escape hatch, or a thread with no running hub) blocks on an OS lock of
// its own instead. The lock holds no Python references, so it is not
// tracked by the cycle collector, like python3's.
#pragma once

#include <Python.h>

#include "core/py_ref.hpp"

namespace tf::core {

// A new, unlocked cooperative lock.
PyRef new_thread_lock();

// Releases `lock` if it is held (a cooperative lock directly, any other
// lock through its methods; errors are reported as unraisable).
void release_thread_lock_if_held(PyObject* lock);

// Adds LockType and allocate_lock() to the module.
int add_thread_lock(PyObject* module);

}  // namespace tf::core
