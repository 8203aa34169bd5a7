// Owned references to Python objects.
//
// Ownership rules, once for the whole module:
//  * PyRef owns exactly one strong reference; its destructor drops it.
//  * Functions returning PyRef return a new reference; an empty PyRef
//    means a Python exception is set.
//  * A raw PyObject* parameter is borrowed; the callee takes its own
//    reference (PyRef::borrow) if it keeps the object.
//  * PyRef::release() hands the reference to CPython (e.g. as a return value
//    from a C entry point).
#pragma once

#include <Python.h>

#include <utility>

namespace tf::core {

class PyRef {
 public:
  PyRef() = default;
  static PyRef steal(PyObject* o) { return PyRef(o); }
  static PyRef borrow(PyObject* o) {
    Py_XINCREF(o);
    return PyRef(o);
  }
  PyRef(const PyRef& other) : obj_(other.obj_) { Py_XINCREF(obj_); }
  PyRef(PyRef&& other) noexcept : obj_(std::exchange(other.obj_, nullptr)) {}
  PyRef& operator=(PyRef other) noexcept {
    std::swap(obj_, other.obj_);
    return *this;
  }
  ~PyRef() { Py_XDECREF(obj_); }

  PyObject* get() const { return obj_; }
  PyObject* release() { return std::exchange(obj_, nullptr); }
  explicit operator bool() const { return obj_ != nullptr; }
  void reset() { Py_CLEAR(obj_); }

 private:
  explicit PyRef(PyObject* o) : obj_(o) {}
  PyObject* obj_ = nullptr;
};

// The exception currently set, taken out of the thread state (and put back
// by restore()). Used to carry an exception across a switch or a cleanup.
class SavedError {
 public:
  static SavedError fetch() {
    SavedError e;
    PyObject *t, *v, *tb;
    PyErr_Fetch(&t, &v, &tb);
    e.type_ = PyRef::steal(t);
    e.value_ = PyRef::steal(v);
    e.traceback_ = PyRef::steal(tb);
    return e;
  }
  void restore() { PyErr_Restore(type_.release(), value_.release(), traceback_.release()); }
  explicit operator bool() const { return bool(type_); }
  PyObject* type() const { return type_.get(); }

 private:
  PyRef type_, value_, traceback_;
};

// Takes the pending exception out of the thread state as one normalised
// instance carrying its traceback (empty when none is pending).
inline PyRef fetch_exception() {
  PyObject *type, *value, *tb;
  PyErr_Fetch(&type, &value, &tb);
  PyErr_NormalizeException(&type, &value, &tb);
  if (tb && value) PyException_SetTraceback(value, tb);
  Py_XDECREF(type);
  Py_XDECREF(tb);
  return PyRef::steal(value);
}

}  // namespace tf::core
