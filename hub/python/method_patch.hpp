// Replacing a C method of a built-in type (io.FileIO.read, select.epoll.poll)
// with our own, in the type's dict: the class, isinstance(), repr() and
// every object made by C code (open(), subprocess's pipes) stay python3's,
// which a replacement class cannot give. Ours keeps the original's name,
// flags and docstring (so its __text_signature__ too) and calls the
// original for anything it does not handle.
#pragma once

#include <Python.h>

namespace tf::core {

// Puts `def` (same name and ml_flags as the method it replaces) in `type`'s
// dict; *original gets the original descriptor (a new reference). Call
// PyType_Modified(type) after the last one. False with an exception set.
bool patch_type_method(PyTypeObject* type, PyMethodDef* def, PyObject** original);

// Calls an original method descriptor's C function (METH_O, METH_NOARGS,
// METH_FASTCALL[|METH_KEYWORDS]) on `self`.
PyObject* call_method_o(PyObject* original, PyObject* self, PyObject* arg);
PyObject* call_method_noargs(PyObject* original, PyObject* self);
PyObject* call_method_fast(PyObject* original, PyObject* self, PyObject* const* args, Py_ssize_t nargs,
                           PyObject* kwnames = nullptr);

}  // namespace tf::core
