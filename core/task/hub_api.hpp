// The hub as Python sees it: run a program on it, its engine, scheduling
// and calls (soon, later, from other threads), what keeps it from
// reporting a deadlock, fork, and its memory counters.
#pragma once

#include <Python.h>

namespace tf::core {

// Reads TFPYTHON_BACKEND (once, when the module is made). -1 on error.
int apply_backend_preference();

// Adds the hub's functions and DeadlockError. -1 on error.
int add_hub_api(PyObject* module);

}  // namespace tf::core
