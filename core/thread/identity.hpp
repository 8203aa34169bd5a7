// Thread identity: which fiber-thread, greenlet or OS thread is running, and
// so what _thread.get_ident() says.
#pragma once

#include <Python.h>

#include "core/py_ref.hpp"

namespace tf::core {

// The fiber or greenlet that is the current "thread" (get_ident() is its
// id()); empty (no error set) when greenlet is not usable here.
PyRef current_thread_greenlet();
// The program's greenlet, the main thread (borrowed; null before the hub).
PyObject* main_thread_greenlet();
// _thread.get_ident()'s answer.
unsigned long current_ident();

// Adds get_ident, thread_greenlet, current_task, set_main_thread. -1 on error.
int add_thread_identity(PyObject* module);

}  // namespace tf::core
