// Greenlet-threads: what _thread.start_new_thread starts once _thread is
// patched. Starting one, its sentinel lock (what Thread.join waits for) and
// the body it runs are C: a thread costs a greenlet, not a Python frame of
// ours, and a parked thread keeps a small frame-stack chunk, not a page.
#pragma once

#include <Python.h>

namespace tf::core {

// Adds _thread's replacements (start_new_thread, _set_sentinel, _count,
// get_native_id), the thread body (run_current_thread, set_thread_class) and
// threading._dangling's helpers (lazy_adder, instances_of) to the module.
int add_green_thread(PyObject* module);

}  // namespace tf::core
