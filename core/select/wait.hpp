// The waits select, poll and the Python-level patches make: one fd
// (wait_readable, wait_writable; a blocking poll(2) outside the hub) or any
// of several (wait_any, for select() and poll objects).
#pragma once

#include <Python.h>

namespace tf::core {

// Adds wait_readable, wait_writable, wait_any. -1 on error.
int add_select_wait(PyObject* module);

}  // namespace tf::core
