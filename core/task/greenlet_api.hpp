// greenlet's C API, imported once. Only greenlet_api.cpp includes
// greenlet.h: the header defines a per-translation-unit function table.
#pragma once

#include <Python.h>

#include "core/py_ref.hpp"

namespace tf::core::greenlet {

// Imports greenlet's capsule; false with an exception set on failure.
bool import_api();

PyRef current();                                  // greenlet.getcurrent()
PyRef create(PyObject* run, PyObject* parent);    // greenlet(run, parent)
// g.switch(*args): the value switched back to us, or empty with an exception
// set when one was thrown into (or raised by) the other side.
PyRef switch_to(PyObject* g, PyObject* args = nullptr);
// False with an exception set.
bool set_parent(PyObject* g, PyObject* parent);
PyRef throw_into(PyObject* g, PyObject* type, PyObject* value, PyObject* tb);
bool is_dead(PyObject* g);       // started and finished
bool is_started(PyObject* g);
bool is_greenlet(PyObject* o);
PyTypeObject* greenlet_type();
bool has_parent(PyObject* g);
PyObject* greenlet_exit_type();  // borrowed

}  // namespace tf::core::greenlet
