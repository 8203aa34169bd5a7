// Replacing a C method of a built-in type (io.FileIO.read, select.epoll.poll)
// with our own, in the type's dict: the class, isinstance(), repr() and
// every object made by C code (open(), subprocess's pipes) stay python3's,
// which a replacement class cannot give. Ours keeps the original's name,
// flags and docstring (so its __text_signature__ too) and calls the
// original for anything it does not handle.
#pragma once

#include <Python.h>

namespace tf::core {

// A method descriptor for `def` (same name and ml_flags as the method it
// stands in for), to be put in `type`'s dict by the monkey registry, which
// records what it replaces and puts that back on restore(). The first call
// takes the original descriptor from the type (into *original, a new
// reference, kept for good) and makes ours (*ours); later calls give the
// same *ours again. A new reference; nullptr with an exception set.
PyObject* replacement_method(PyTypeObject* type, PyMethodDef* def, PyObject** original, PyObject** ours);

// set_type_attribute(type, name, value): sets or (value None is not special)
// replaces an entry of a built-in type's dict, which setattr refuses
// (immutable types); the registry uses it to patch and restore methods.
int add_method_patch(PyObject* module);

// Calls an original method descriptor's C function (METH_O, METH_NOARGS,
// METH_FASTCALL[|METH_KEYWORDS]) on `self`.
PyObject* call_method_o(PyObject* original, PyObject* self, PyObject* arg);
PyObject* call_method_noargs(PyObject* original, PyObject* self);
PyObject* call_method_fast(PyObject* original, PyObject* self, PyObject* const* args, Py_ssize_t nargs,
                           PyObject* kwnames = nullptr);

// callable(self, *args, **kw) for the vectorcall arguments a METH_FASTCALL
// method received (nargs positional, then one value per name in kwnames):
// the original method or Python function a replacement falls back to.
PyObject* call_with_self(PyObject* callable, PyObject* self, PyObject* const* args, Py_ssize_t nargs,
                         PyObject* kwnames = nullptr);

}  // namespace tf::core
