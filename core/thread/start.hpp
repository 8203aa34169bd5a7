// Threads inside the hub: what _thread.start_new_thread starts once _thread
// is patched is a fiber (core/task/fiber.hpp). Starting one, its sentinel lock
// (what Thread.join waits for) and the body it runs are C: a thread costs a
// fiber, not a Python frame of ours, and a parked thread keeps a small
// frame-stack chunk, not a page.
#pragma once

#include <Python.h>

namespace tf::core {

// Adds _thread's replacements (start_new_thread, _set_sentinel, _count,
// get_native_id), the fiber type, set_thread_originals and
// threading._dangling's helpers (lazy_adder, instances_of) to the module.
int add_thread_start(PyObject* module);

// A new fiber-thread's entry on the hub's SharedStack (`hub` is the
// GreenHub): a thread's fresh Python state, the thread's function, then what
// _thread does when a thread ends; it leaves by switching back to the hub.
[[noreturn]] void thread_fiber_main(void* hub);

}  // namespace tf::core
