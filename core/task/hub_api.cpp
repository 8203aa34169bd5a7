#include "core/task/hub_api.hpp"

#include <cerrno>
#include <cstdlib>

#include "core/args.hpp"
#include "core/task/green_hub.hpp"
#include "core/task/greenlet_api.hpp"
#include "core/task/stack_chunks.hpp"
#include "hub/backend.hpp"
#include "hub/shared_stack.hpp"

namespace tf::core {
namespace {

// ------------------------------------------------------------- functions --

PyObject* hub_is_running(PyObject*, PyObject*) { return PyBool_FromLong(GreenHub::cooperative_here()); }

// backend(): "io_uring" or "epoll", the engine of this thread's hub; with no
// hub here yet, the one a hub made now would get.
PyObject* backend(PyObject*, PyObject*) {
  if (GreenHub* hub = GreenHub::current()) {
    const char* name = hub->backend_name();
    return name ? PyUnicode_FromString(name) : nullptr;
  }
  hub::Backend chosen;
  if (int error = hub::resolve_backend(&chosen); error != 0) {
    errno = error;
    return PyErr_SetFromErrno(PyExc_OSError);
  }
  return PyUnicode_FromString(hub::backend_name(chosen));
}


PyObject* run(PyObject*, PyObject* callable) {
  if (!greenlet::import_api()) return nullptr;
  return GreenHub::for_this_thread().run(callable).release();
}

PyObject* schedule(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  if (!_PyArg_CheckPositional("schedule", nargs, 1, 2)) return nullptr;
  GreenHub* hub = running_hub_or_raise();
  if (!hub) return nullptr;
  if (!greenlet::is_greenlet(args[0])) {
    PyErr_SetString(PyExc_TypeError, "schedule() expects a greenlet");
    return nullptr;
  }
  PyRef packed;
  if (nargs == 2) {
    packed = PyRef::steal(PyTuple_Pack(1, args[1]));
    if (!packed) return nullptr;
  }
  hub->schedule_switch(args[0], packed.get());
  Py_RETURN_NONE;
}

PyObject* throw_later(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  if (!_PyArg_CheckPositional("throw", nargs, 2, 2)) return nullptr;
  GreenHub* hub = running_hub_or_raise();
  if (!hub) return nullptr;
  PyRef exc = PyRef::borrow(args[1]);
  if (PyExceptionClass_Check(args[1])) {
    exc = PyRef::steal(PyObject_CallNoArgs(args[1]));
    if (!exc) return nullptr;
  } else if (!PyExceptionInstance_Check(args[1])) {
    PyErr_SetString(PyExc_TypeError, "exceptions must derive from BaseException");
    return nullptr;
  }
  hub->throw_soon(args[0], exc.get());
  Py_RETURN_NONE;
}

PyObject* stack_chunk_counts(PyObject*, PyObject*) {
  stack_chunks::Counts c = stack_chunks::counts();
  return Py_BuildValue("(kkkkn)", c.in_use, c.free_dirty, c.free_clean, c.roots_in_use,
                       static_cast<Py_ssize_t>(stack_chunks::root_chunk_size()));
}

PyObject* memory_stats(PyObject*, PyObject*) {
  stack_chunks::Counts c = stack_chunks::counts();
  hub::SharedStack::SavedTotals saved = hub::SharedStack::saved_totals();
  return Py_BuildValue("{sksksksksnsnsn}", "chunks_in_use", c.in_use, "chunks_free_dirty", c.free_dirty,
                       "chunks_free_clean", c.free_clean, "roots_in_use", c.roots_in_use, "root_size",
                       static_cast<Py_ssize_t>(stack_chunks::root_chunk_size()), "fiber_stack_copies",
                       static_cast<Py_ssize_t>(saved.copies), "fiber_stack_bytes",
                       static_cast<Py_ssize_t>(saved.bytes));
}

// write_unraisable(exc, message, obj): sys.unraisablehook, as CPython
// reports an exception nobody can catch ("Exception ignored in ...").
PyObject* write_unraisable(PyObject*, PyObject* args) {
  PyObject *exc, *obj;
  const char* message;
  if (!PyArg_ParseTuple(args, "OsO:write_unraisable", &exc, &message, &obj)) return nullptr;
  if (!PyExceptionInstance_Check(exc)) {
    PyErr_SetString(PyExc_TypeError, "write_unraisable() expects an exception");
    return nullptr;
  }
  PyRef tb = PyRef::steal(PyException_GetTraceback(exc));
  PyErr_Restore(Py_NewRef(reinterpret_cast<PyObject*>(Py_TYPE(exc))), Py_NewRef(exc), tb.release());
  _PyErr_WriteUnraisableMsg(message, obj);
  Py_RETURN_NONE;
}

PyObject* yield_if_due(PyObject*, PyObject*) {
  if (GreenHub::cooperative_here() && GreenHub::current()->yield_if_due() == WaitStatus::kFailed) return nullptr;
  Py_RETURN_NONE;
}

PyObject* get_main_greenlet(PyObject*, PyObject*) {
  GreenHub* hub = GreenHub::current();
  if (!hub || !hub->main_greenlet()) Py_RETURN_NONE;
  return Py_NewRef(hub->main_greenlet());
}

PyObject* get_hub_greenlet(PyObject*, PyObject*) {
  GreenHub* hub = running_hub_or_raise();
  if (!hub) return nullptr;
  return Py_NewRef(hub->hub_greenlet());
}

PyObject* pool_threads(PyObject*, PyObject* delta) {
  long d = PyLong_AsLong(delta);
  if (d == -1 && PyErr_Occurred()) return nullptr;
  GreenHub::count_pool_threads(d);
  Py_RETURN_NONE;
}

PyObject* call_soon(PyObject*, PyObject* args) {
  GreenHub* hub = running_hub_or_raise();
  if (!hub) return nullptr;
  if (PyTuple_GET_SIZE(args) < 1) {
    PyErr_SetString(PyExc_TypeError, "call_soon() needs a callable");
    return nullptr;
  }
  PyRef rest = PyRef::steal(PyTuple_GetSlice(args, 1, PyTuple_GET_SIZE(args)));
  hub->schedule_call(PyTuple_GET_ITEM(args, 0), rest.get());
  Py_RETURN_NONE;
}

PyObject* call_later(PyObject*, PyObject* args) {
  GreenHub* hub = running_hub_or_raise();
  if (!hub) return nullptr;
  if (PyTuple_GET_SIZE(args) < 2) {
    PyErr_SetString(PyExc_TypeError, "call_later() needs a delay and a callable");
    return nullptr;
  }
  double delay;
  if (!parse_timeout(PyTuple_GET_ITEM(args, 0), &delay)) return nullptr;
  if (delay < 0) delay = 0;
  PyRef rest = PyRef::steal(PyTuple_GetSlice(args, 2, PyTuple_GET_SIZE(args)));
  return PyLong_FromUnsignedLongLong(hub->call_later(delay, PyTuple_GET_ITEM(args, 1), rest.get()));
}

PyObject* cancel_call(PyObject*, PyObject* handle) {
  GreenHub* hub = GreenHub::current();
  unsigned long long h = PyLong_AsUnsignedLongLong(handle);
  if (h == static_cast<unsigned long long>(-1) && PyErr_Occurred()) return nullptr;
  return PyBool_FromLong(hub && hub->cancel_call(h));
}

PyObject* current_hub_id(PyObject*, PyObject*) {
  GreenHub* hub = GreenHub::current();
  if (!hub) Py_RETURN_NONE;
  return PyLong_FromUnsignedLongLong(hub->serial());
}

PyObject* call_soon_threadsafe(PyObject*, PyObject* args) {
  if (PyTuple_GET_SIZE(args) < 2) {
    PyErr_SetString(PyExc_TypeError, "call_soon_threadsafe() needs a hub id and a callable");
    return nullptr;
  }
  unsigned long long serial = PyLong_AsUnsignedLongLong(PyTuple_GET_ITEM(args, 0));
  if (serial == static_cast<unsigned long long>(-1) && PyErr_Occurred()) return nullptr;
  PyRef rest = PyRef::steal(PyTuple_GetSlice(args, 2, PyTuple_GET_SIZE(args)));
  if (!rest) return nullptr;
  if (!GreenHub::call_soon_threadsafe(serial, PyTuple_GET_ITEM(args, 1), rest.get()))
    return PyErr_Format(PyExc_ValueError, "no hub with id %llu", serial);
  Py_RETURN_NONE;
}

PyObject* hold(PyObject*, PyObject* delta) {
  GreenHub* hub = GreenHub::current();
  long d = PyLong_AsLong(delta);
  if (d == -1 && PyErr_Occurred()) return nullptr;
  if (hub) {
    if (d > 0) hub->hold();
    else hub->unhold();
  }
  Py_RETURN_NONE;
}

PyObject* after_fork_in_child(PyObject*, PyObject*) {
  if (GreenHub* hub = GreenHub::current()) hub->after_fork_in_child();
  Py_RETURN_NONE;
}

PyMethodDef g_methods[] = {
    {"hub_is_running", hub_is_running, METH_NOARGS,
     "True when called from a greenlet driven by this thread's running hub."},
    {"run", run, METH_O, "run(callable): run callable() in a greenlet driven by this thread's hub."},
    {"backend", backend, METH_NOARGS, "backend() -> 'io_uring' or 'epoll': the engine of this thread's hub."},
    {"schedule", reinterpret_cast<PyCFunction>(schedule), METH_FASTCALL,
     "schedule(greenlet[, value]): switch to greenlet from the hub soon."},
    {"throw", reinterpret_cast<PyCFunction>(throw_later), METH_FASTCALL,
     "throw(greenlet, exc): raise exc in greenlet (at once when called from the hub)."},
    {"get_hub_greenlet", get_hub_greenlet, METH_NOARGS, "The greenlet this thread's hub runs on."},
    {"stack_chunk_counts", stack_chunk_counts, METH_NOARGS,
     "stack_chunk_counts() -> (in use, free with pages, free without, roots in use, next root size):\n"
     "the frame-stack chunk pool."},
    {"memory_stats", memory_stats, METH_NOARGS,
     "memory_stats() -> dict: the frame-stack chunk pool and the fibers' saved stack copies."},
    {"write_unraisable", write_unraisable, METH_VARARGS,
     "write_unraisable(exc, message, obj): report exc through sys.unraisablehook."},
    {"yield_if_due", yield_if_due, METH_NOARGS,
     "Let other greenlets run if this one has run longer than the switch interval."},
    {"get_main_greenlet", get_main_greenlet, METH_NOARGS,
     "The greenlet running this thread's program (hub.run's callable), or None."},
    {"pool_threads", pool_threads, METH_O,
     "pool_threads(+n|-n): OS threads of a worker pool, which alone never wake a hub."},
    {"call_soon", call_soon, METH_VARARGS, "call_soon(fn, *args): run fn in the hub soon."},
    {"call_later", call_later, METH_VARARGS, "call_later(delay, fn, *args) -> handle"},
    {"cancel_call", cancel_call, METH_O, "cancel_call(handle) -> bool"},
    {"current_hub_id", current_hub_id, METH_NOARGS, "This thread's hub id, or None."},
    {"call_soon_threadsafe", call_soon_threadsafe, METH_VARARGS,
     "call_soon_threadsafe(hub_id, fn, *args): from any thread."},
    {"hold", hold, METH_O, "hold(+1|-1): count work on other threads that will wake the hub."},
    {"_after_fork_in_child", after_fork_in_child, METH_NOARGS, nullptr},
    {nullptr, nullptr, 0, nullptr}};

}  // namespace

int apply_backend_preference() {
  const char* text = std::getenv("TFPYTHON_BACKEND");
  hub::Backend wanted;
  if (!hub::parse_backend(text, &wanted)) {
    PyErr_Format(PyExc_ValueError, "TFPYTHON_BACKEND must be io_uring, epoll or auto, not '%s'", text);
    return -1;
  }
  hub::set_backend_preference(wanted);
  return 0;
}

int add_hub_api(PyObject* module) {
  DeadlockError = PyErr_NewExceptionWithDoc(
      "_framework_core.DeadlockError",
      "Every greenlet waits and nothing (timer, I/O, thread, signal) can wake them.",
      PyExc_RuntimeError, nullptr);
  if (!DeadlockError || PyModule_AddObjectRef(module, "DeadlockError", DeadlockError) < 0) return -1;
  return PyModule_AddFunctions(module, g_methods);
}

}  // namespace tf::core
