#include "core/task/spawn.hpp"

#include "core/args.hpp"
#include "core/task/green_hub.hpp"
#include "core/task/greenlet_api.hpp"
#include "core/task/stack_chunks.hpp"

namespace tf::core {
namespace {

PyObject* spawn_raw(PyObject*, PyObject* callable) {
  GreenHub* hub = running_hub_or_raise();
  if (!hub) return nullptr;
  PyRef g = greenlet::create(callable, hub->hub_greenlet());
  if (!g) return nullptr;
  hub->schedule_switch(g.get(), nullptr);
  return g.release();
}

// theframework.spawn(function, *args, **kwargs) in C: a Greenlet made and
// scheduled without a Python frame (Greenlet.__init__ in Python was most of
// the cost of a spawn). The Greenlet class registers itself here.
PyObject* g_task_class = nullptr;
PyObject* g_task_fields[8] = {};  // interned slot names, set by set_task_class

enum TaskField { kFunction, kArgs, kKwargs, kName, kValue, kException, kJoiners, kKillBeforeStart };

bool intern_task_fields() {
  static const char* const kFields[8] = {"_function", "_args", "_kwargs", "_name",
                                         "value", "_exception", "_joiners", "_kill_before_start"};
  for (int i = 0; i < 8; ++i) {
    if (!g_task_fields[i] && !(g_task_fields[i] = PyUnicode_InternFromString(kFields[i]))) return false;
  }
  return true;
}

PyObject* set_task_class(PyObject*, PyObject* cls) {
  if (!PyType_Check(cls) || !PyType_IsSubtype(reinterpret_cast<PyTypeObject*>(cls), greenlet::greenlet_type())) {
    PyErr_SetString(PyExc_TypeError, "set_task_class() expects a greenlet subclass");
    return nullptr;
  }
  if (!intern_task_fields()) return nullptr;
  Py_XSETREF(g_task_class, Py_NewRef(cls));
  Py_RETURN_NONE;
}

PyObject* spawn_task(PyObject*, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
  if (nargs < 1) {
    PyErr_SetString(PyExc_TypeError, "spawn() missing 1 required positional argument: 'function'");
    return nullptr;
  }
  if (!g_task_class) {
    PyErr_SetString(PyExc_RuntimeError, "spawn(): theframework.greenlets is not loaded");
    return nullptr;
  }
  GreenHub* hub = running_hub_or_raise();
  if (!hub) return nullptr;
  PyRef call_args = PyRef::steal(PyTuple_New(nargs - 1));
  if (!call_args) return nullptr;
  for (Py_ssize_t i = 1; i < nargs; ++i) PyTuple_SET_ITEM(call_args.get(), i - 1, Py_NewRef(args[i]));
  PyRef call_kwargs = PyRef::borrow(Py_None);
  if (kwnames && PyTuple_GET_SIZE(kwnames)) {
    call_kwargs = PyRef::steal(PyDict_New());
    if (!call_kwargs) return nullptr;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(kwnames); ++i)
      if (PyDict_SetItem(call_kwargs.get(), PyTuple_GET_ITEM(kwnames, i), args[nargs + i]) < 0) return nullptr;
  }
  auto* type = reinterpret_cast<PyTypeObject*>(g_task_class);
  PyRef empty = PyRef::steal(PyTuple_New(0));
  if (!empty) return nullptr;
  PyRef g = PyRef::steal(type->tp_new(type, empty.get(), nullptr));
  if (!g || !greenlet::set_parent(g.get(), hub->hub_greenlet())) return nullptr;
  PyObject* values[8] = {args[0], call_args.get(), call_kwargs.get(), Py_None,
                         Py_None, Py_None, Py_None, Py_None};
  for (int i = 0; i < 8; ++i)
    if (PyObject_SetAttr(g.get(), g_task_fields[i], values[i]) < 0) return nullptr;
  hub->schedule_switch(g.get(), nullptr);
  return g.release();
}

// The end of a Greenlet: drop what it ran, forget the dummy Thread that
// threading.current_thread() may have made for it, wake its joiners.
int finish_task(PyObject* g) {
  if (!intern_task_fields()) return -1;
  for (TaskField f : {kFunction, kArgs, kKwargs})
    if (PyObject_SetAttr(g, g_task_fields[f], Py_None) < 0) return -1;
  static PyObject* const active_name = PyUnicode_InternFromString("_active");
  static PyObject* const dummy_name = PyUnicode_InternFromString("_DummyThread");
  if (!active_name || !dummy_name) return -1;
  PyObject* threading = PyDict_GetItemString(PyImport_GetModuleDict(), "threading");  // borrowed
  if (threading) {
    PyRef active = PyRef::steal(PyObject_GetAttr(threading, active_name));
    PyRef dummy_type = active ? PyRef::steal(PyObject_GetAttr(threading, dummy_name)) : PyRef();
    if (!dummy_type) return -1;
    PyRef key = PyRef::steal(PyLong_FromVoidPtr(g));
    if (!key) return -1;
    PyObject* dummy = PyDict_Check(active.get()) ? PyDict_GetItemWithError(active.get(), key.get()) : nullptr;
    if (!dummy && PyErr_Occurred()) return -1;
    if (dummy && reinterpret_cast<PyObject*>(Py_TYPE(dummy)) == dummy_type.get() &&
        PyDict_DelItem(active.get(), key.get()) < 0)
      return -1;
  }
  PyRef joiners = PyRef::steal(PyObject_GetAttr(g, g_task_fields[kJoiners]));
  if (!joiners || PyObject_SetAttr(g, g_task_fields[kJoiners], Py_None) < 0) return -1;
  if (joiners.get() != Py_None) {
    PyRef snapshot = PyRef::steal(PySequence_List(joiners.get()));
    if (!snapshot) return -1;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(snapshot.get()); ++i) {
      PyRef woke = PyRef::steal(PyObject_CallMethod(PyList_GET_ITEM(snapshot.get(), i), "wake", nullptr));
      if (!woke) return -1;
    }
  }
  return 0;
}

// The body of a theframework.Greenlet is C (call_task_function, end_task),
// so that a greenlet running a C callable (spawn(time.sleep, 1)) pushes no
// Python frame and needs no frame-stack chunk. Only errors call back into
// Python (_failed()).

// Calls the greenlet's function, or raises the kill that came before it
// started. Not inlined, and with few locals: this frame and the ones below
// it are copied off the C stack every time the greenlet parks.
[[gnu::noinline]] PyObject* call_task_function(PyObject* g) {
  if (!intern_task_fields()) return nullptr;
  PyRef kill = PyRef::steal(PyObject_GetAttr(g, g_task_fields[kKillBeforeStart]));
  if (!kill) return nullptr;
  if (kill.get() != Py_None) {
    PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(kill.get())), kill.get());
    return nullptr;
  }
  PyRef fn = PyRef::steal(PyObject_GetAttr(g, g_task_fields[kFunction]));
  PyRef args = fn ? PyRef::steal(PyObject_GetAttr(g, g_task_fields[kArgs])) : PyRef();
  PyRef kwargs = args ? PyRef::steal(PyObject_GetAttr(g, g_task_fields[kKwargs])) : PyRef();
  if (!kwargs) return nullptr;
  bool has_kwargs = PyDict_Check(kwargs.get()) && PyDict_GET_SIZE(kwargs.get()) > 0;
  stack_chunks::give_root_chunk_before(fn.get());
  return PyObject_Call(fn.get(), args.get(), has_kwargs ? kwargs.get() : nullptr);
}

// Records the outcome (`result` is stolen; null with an exception set) and
// ends the greenlet; an exception _failed() says is not ours to keep goes
// on to the hub.
[[gnu::noinline]] PyObject* end_task(PyObject* g, PyObject* result_or_null) {
  PyRef result = PyRef::steal(result_or_null);
  SavedError reraise;
  if (result) {
    if (PyObject_SetAttr(g, g_task_fields[kValue], result.get()) < 0) return nullptr;
  } else {
    PyRef exc = fetch_exception();
    PyRef again = PyRef::steal(PyObject_CallMethod(g, "_failed", "O", exc.get()));
    if (!again) return nullptr;
    if (PyObject_IsTrue(again.get())) {
      PyRef tb = PyRef::steal(PyException_GetTraceback(exc.get()));
      PyErr_Restore(Py_NewRef(reinterpret_cast<PyObject*>(Py_TYPE(exc.get()))), exc.release(), tb.release());
      reraise = SavedError::fetch();
    }
  }
  if (finish_task(g) < 0) return nullptr;
  if (reraise) {
    reraise.restore();
    return nullptr;
  }
  Py_RETURN_NONE;
}

// run_current_task(): the body of the current Greenlet. As Greenlet.run it
// needs no bound method, which greenlet would make at every start and keep
// for the greenlet's whole life.
PyObject* run_current_task(PyObject*, PyObject*) {
  PyRef g = greenlet::current();
  if (!g) return nullptr;
  return end_task(g.get(), call_task_function(g.get()));
}

PyMethodDef g_methods[] = {
    {"set_task_class", set_task_class, METH_O, "set_task_class(cls): the Greenlet class spawn() makes."},
    {"spawn", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(spawn_task)),
     METH_FASTCALL | METH_KEYWORDS,
     "spawn(function, *args, **kwargs): start function(*args, **kwargs) in a new greenlet; returns its handle."},
    {"spawn_raw", spawn_raw, METH_O, "spawn_raw(callable): a new greenlet, child of the hub, scheduled."},
    {"run_current_task", run_current_task, METH_NOARGS,
     "run_current_task(): the body of the current theframework.Greenlet."},
    {nullptr, nullptr, 0, nullptr}};

}  // namespace

int add_spawn(PyObject* module) { return PyModule_AddFunctions(module, g_methods); }

}  // namespace tf::core
