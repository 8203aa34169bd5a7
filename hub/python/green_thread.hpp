// Greenlet-threads: what _thread.start_new_thread starts once _thread is
// patched. Starting one, its sentinel lock (what Thread.join waits for) and
// the body it runs are C: a thread costs a greenlet, not a Python frame of
// ours, and a parked thread keeps a small frame-stack chunk, not a page.
#pragma once

#include <Python.h>

namespace tf::core {

// Adds start_new_thread, set_sentinel, thread_count, run_current_thread and
// set_thread_class to the module.
int add_green_thread(PyObject* module);

}  // namespace tf::core
