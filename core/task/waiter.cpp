#include "core/task/waiter.hpp"

#include <climits>

#include "core/args.hpp"
#include "core/task/green_hub.hpp"

namespace tf::core {
namespace {

PyObject* g_timed_out = nullptr;        // the TIMED_OUT sentinel
PyTypeObject* g_waiter_type = nullptr;

// ---------------------------------------------------------------- Waiter --
// One greenlet at a time parks on a Waiter; anyone in the hub's thread
// wakes it with a value or an exception, other threads with
// wake_threadsafe().

PyObject* Waiter_wait(WaiterObject* self, PyObject* const* args, Py_ssize_t nargs) {
  if (!_PyArg_CheckPositional("wait", nargs, 0, 1)) return nullptr;
  double timeout;
  if (!parse_timeout(nargs ? args[0] : nullptr, &timeout)) return nullptr;
  if (!GreenHub::cooperative_here()) {
    PyErr_SetString(PyExc_RuntimeError, "Waiter.wait() needs a running hub in this thread");
    return nullptr;
  }
  if (self->name) {
    PyErr_SetString(PyExc_RuntimeError, "another greenlet is already waiting on this Waiter");
    return nullptr;
  }
  GreenHub* hub = GreenHub::current();
  self->hub_serial = hub->serial();
  PyRef value;
  Py_INCREF(self);  // the object must outlive the wait
  WaitStatus status = hub->park(timeout, &value, publish_waiter_name, self);
  self->name = 0;
  Py_DECREF(self);
  switch (status) {
    case WaitStatus::kFailed:
      return nullptr;
    case WaitStatus::kTimedOut:
      return Py_NewRef(g_timed_out);
    case WaitStatus::kReady:
      break;
  }
  return value ? value.release() : Py_NewRef(Py_None);
}

PyObject* Waiter_wake(WaiterObject* self, PyObject* const* args, Py_ssize_t nargs) {
  if (!_PyArg_CheckPositional("wake", nargs, 0, 1)) return nullptr;
  GreenHub* hub = GreenHub::current();
  if (!self->name || !hub || hub->serial() != self->hub_serial) Py_RETURN_FALSE;
  return PyBool_FromLong(hub->wake(self->name, nargs ? args[0] : Py_None));
}

PyObject* Waiter_throw(WaiterObject* self, PyObject* exc) {
  GreenHub* hub = GreenHub::current();
  if (!self->name || !hub || hub->serial() != self->hub_serial) Py_RETURN_FALSE;
  PyRef instance = PyRef::borrow(exc);
  if (PyExceptionClass_Check(exc)) instance = PyRef::steal(PyObject_CallNoArgs(exc));
  if (!instance) return nullptr;
  return PyBool_FromLong(hub->wake_with_exception(self->name, instance.get()));
}

PyObject* Waiter_wake_threadsafe(WaiterObject* self, PyObject* const* args, Py_ssize_t nargs) {
  if (!_PyArg_CheckPositional("wake_threadsafe", nargs, 0, 1)) return nullptr;
  uint64_t name = self->name;
  return PyBool_FromLong(name && GreenHub::wake_threadsafe(self->hub_serial, name, nargs ? args[0] : Py_None));
}

// watch_also(fd, events): the wait_any() parked on this Waiter watches fd
// too; False if none is parked on it in this thread's hub.
PyObject* Waiter_watch_also(WaiterObject* self, PyObject* const* args, Py_ssize_t nargs) {
  if (!_PyArg_CheckPositional("watch_also", nargs, 2, 2)) return nullptr;
  long fd = PyLong_AsLong(args[0]);
  if (fd == -1 && PyErr_Occurred()) return nullptr;
  if (fd < 0 || fd > INT_MAX) {
    PyErr_SetString(PyExc_ValueError, "watch_also(): not a file descriptor");
    return nullptr;
  }
  unsigned long events = PyLong_AsUnsignedLong(args[1]);
  if (events == static_cast<unsigned long>(-1) && PyErr_Occurred()) return nullptr;
  GreenHub* hub = GreenHub::current();
  if (!self->name || !hub || hub->serial() != self->hub_serial || !hub->running()) Py_RETURN_FALSE;
  return PyBool_FromLong(hub->watch_also(self->name, static_cast<int>(fd), static_cast<uint32_t>(events)));
}

PyObject* Waiter_get_waiting(WaiterObject* self, void*) { return PyBool_FromLong(self->name != 0); }

PyMethodDef g_waiter_methods[] = {
    {"wait", reinterpret_cast<PyCFunction>(Waiter_wait), METH_FASTCALL,
     "wait(timeout=None): park until woken; returns the value, or TIMED_OUT."},
    {"wake", reinterpret_cast<PyCFunction>(Waiter_wake), METH_FASTCALL,
     "wake(value=None): resume the parked greenlet with value; False if none waits."},
    {"throw", reinterpret_cast<PyCFunction>(Waiter_throw), METH_O,
     "throw(exc): resume the parked greenlet by raising exc."},
    {"wake_threadsafe", reinterpret_cast<PyCFunction>(Waiter_wake_threadsafe), METH_FASTCALL,
     "wake_threadsafe(value=None): wake() from any OS thread."},
    {"watch_also", reinterpret_cast<PyCFunction>(Waiter_watch_also), METH_FASTCALL,
     "watch_also(fd, events): the wait_any() parked on this Waiter also ends when fd reports events;\n"
     "False if no such wait is parked in this thread's hub."},
    {nullptr, nullptr, 0, nullptr}};

PyGetSetDef g_waiter_getset[] = {
    {"waiting", reinterpret_cast<getter>(Waiter_get_waiting), nullptr, "a greenlet is parked", nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr}};

PyType_Slot g_waiter_slots[] = {
    {Py_tp_methods, g_waiter_methods},
    {Py_tp_getset, g_waiter_getset},
    {Py_tp_new, reinterpret_cast<void*>(PyType_GenericNew)},
    {Py_tp_doc, const_cast<char*>("A place where one greenlet waits to be woken.")},
    {0, nullptr}};

PyType_Spec g_waiter_spec = {"_framework_core.Waiter", sizeof(WaiterObject), 0,
                             Py_TPFLAGS_DEFAULT, g_waiter_slots};

}  // namespace

PyTypeObject* waiter_type() { return g_waiter_type; }

void publish_waiter_name(void* ctx, uint64_t name) { static_cast<WaiterObject*>(ctx)->name = name; }

int add_waiter(PyObject* module) {
  g_timed_out = PyObject_CallNoArgs(reinterpret_cast<PyObject*>(&PyBaseObject_Type));
  if (!g_timed_out || PyModule_AddObjectRef(module, "TIMED_OUT", g_timed_out) < 0) return -1;
  if (!g_waiter_type) g_waiter_type = reinterpret_cast<PyTypeObject*>(PyType_FromSpec(&g_waiter_spec));
  if (!g_waiter_type) return -1;
  return PyModule_AddObjectRef(module, "Waiter", reinterpret_cast<PyObject*>(g_waiter_type));
}

}  // namespace tf::core
