#include "core/task/greenlet_api.hpp"

#include <greenlet/greenlet.h>

namespace tf::core::greenlet {

bool import_api() {
  if (_PyGreenlet_API) return true;
  _PyGreenlet_API = static_cast<void**>(PyCapsule_Import("greenlet._C_API", 0));
  return _PyGreenlet_API != nullptr;
}

PyRef current() { return PyRef::steal(reinterpret_cast<PyObject*>(PyGreenlet_GetCurrent())); }

PyRef create(PyObject* run, PyObject* parent) {
  return PyRef::steal(
      reinterpret_cast<PyObject*>(PyGreenlet_New(run, reinterpret_cast<PyGreenlet*>(parent))));
}

bool set_parent(PyObject* g, PyObject* parent) {
  return PyGreenlet_SetParent(reinterpret_cast<PyGreenlet*>(g), reinterpret_cast<PyGreenlet*>(parent)) == 0;
}

namespace {

// greenlet saves the current Python frame as a frame object when it
// switches away, making one if there is none yet: an allocation inside
// the switch, which can start a garbage collection, whose finalizers
// (__del__, weakref callbacks) then run half-way through the switch. One
// that waits (a lock held elsewhere, a full queue) would switch again from
// there, which greenlet does not survive. The frame object is made here
// instead, before the switch begins, where a finalizer may wait as
// anywhere else.
void make_frame_object_before_switching() {
  PyFrameObject* frame = PyThreadState_GetFrame(PyThreadState_Get());
  if (frame)
    Py_DECREF(frame);
  else if (PyErr_Occurred())
    PyErr_Clear();
}

}  // namespace

PyRef switch_to(PyObject* g, PyObject* args) {
  make_frame_object_before_switching();
  return PyRef::steal(PyGreenlet_Switch(reinterpret_cast<PyGreenlet*>(g), args, nullptr));
}

PyRef throw_into(PyObject* g, PyObject* type, PyObject* value, PyObject* tb) {
  make_frame_object_before_switching();
  return PyRef::steal(PyGreenlet_Throw(reinterpret_cast<PyGreenlet*>(g), type, value, tb));
}

bool is_started(PyObject* g) { return PyGreenlet_STARTED(reinterpret_cast<PyGreenlet*>(g)); }

bool is_dead(PyObject* g) {
  auto* pg = reinterpret_cast<PyGreenlet*>(g);
  return PyGreenlet_STARTED(pg) && !PyGreenlet_ACTIVE(pg);
}

bool has_parent(PyObject* g) {
  PyGreenlet* parent = PyGreenlet_GET_PARENT(reinterpret_cast<PyGreenlet*>(g));
  Py_XDECREF(parent);
  return parent != nullptr;
}

PyTypeObject* greenlet_type() { return &PyGreenlet_Type; }

bool is_greenlet(PyObject* o) { return PyGreenlet_Check(o); }

PyObject* greenlet_exit_type() { return PyExc_GreenletExit; }

}  // namespace tf::core::greenlet
