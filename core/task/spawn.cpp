#include "core/task/spawn.hpp"

#include <structmember.h>

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

// ---------------------------------------------------- the Greenlet's state --
// A theframework.Greenlet's state lives in the slots of TaskBase, a greenlet
// subclass made here (with type(), so that CPython traverses and clears the
// slots); greenlets.py's Greenlet derives from it and adds the Python
// methods. C reads and writes the slots by their offsets: one layout, named
// once, below.

enum TaskField { kFunction, kArgs, kKwargs, kName, kValue, kException, kJoiners, kKillBeforeStart, kFieldCount };
constexpr const char* kFieldNames[kFieldCount] = {"_function", "_args",      "_kwargs",  "_name",
                                                  "value",     "_exception", "_joiners", "_kill_before_start"};
Py_ssize_t g_field_offset[kFieldCount] = {};
PyTypeObject* g_task_base = nullptr;  // strong, for the life of the process
PyObject* g_task_class = nullptr;     // the Greenlet class spawn() makes

PyObject*& field_of(PyObject* g, TaskField f) {
  return *reinterpret_cast<PyObject**>(reinterpret_cast<char*>(g) + g_field_offset[f]);
}
// Borrowed; None for a slot never set.
PyObject* get_field(PyObject* g, TaskField f) {
  PyObject* v = field_of(g, f);
  return v ? v : Py_None;
}
void set_field(PyObject* g, TaskField f, PyObject* v) { Py_XSETREF(field_of(g, f), Py_NewRef(v)); }

// task_base(): TaskBase, made on first use (greenlet must be importable).
PyObject* task_base(PyObject*, PyObject*) {
  if (g_task_base) return Py_NewRef(reinterpret_cast<PyObject*>(g_task_base));
  if (!greenlet::import_api()) return nullptr;
  PyRef slots = PyRef::steal(PyTuple_New(kFieldCount));
  if (!slots) return nullptr;
  for (int i = 0; i < kFieldCount; ++i) {
    PyObject* name = PyUnicode_InternFromString(kFieldNames[i]);
    if (!name) return nullptr;
    PyTuple_SET_ITEM(slots.get(), i, name);
  }
  PyRef type = PyRef::steal(PyObject_CallFunction(
      reinterpret_cast<PyObject*>(&PyType_Type), "s(O){sOss}", "TaskBase",
      reinterpret_cast<PyObject*>(greenlet::greenlet_type()), "__slots__", slots.get(), "__module__",
      "_framework_core"));
  if (!type) return nullptr;
  for (int i = 0; i < kFieldCount; ++i) {
    PyObject* slot = PyDict_GetItemString(reinterpret_cast<PyTypeObject*>(type.get())->tp_dict, kFieldNames[i]);
    if (!slot || !Py_IS_TYPE(slot, &PyMemberDescr_Type)) {
      PyErr_Format(PyExc_RuntimeError, "TaskBase: no slot %s", kFieldNames[i]);
      return nullptr;
    }
    g_field_offset[i] = reinterpret_cast<PyMemberDescrObject*>(slot)->d_member->offset;
  }
  g_task_base = reinterpret_cast<PyTypeObject*>(type.release());
  return Py_NewRef(reinterpret_cast<PyObject*>(g_task_base));
}

PyObject* set_task_class(PyObject*, PyObject* cls) {
  if (!g_task_base || !PyType_Check(cls) || !PyType_IsSubtype(reinterpret_cast<PyTypeObject*>(cls), g_task_base)) {
    PyErr_SetString(PyExc_TypeError, "set_task_class() expects a subclass of task_base()");
    return nullptr;
  }
  Py_XSETREF(g_task_class, Py_NewRef(cls));
  Py_RETURN_NONE;
}

// What threading's patch tells us (set_dummy_threads): its _active dict and
// _DummyThread, so that a Greenlet's end forgets the dummy Thread that
// threading.current_thread() may have made for it.
PyObject* g_threading_active = nullptr;
PyObject* g_dummy_thread_type = nullptr;

PyObject* set_dummy_threads(PyObject*, PyObject* args) {
  PyObject *active, *dummy_type;
  if (!PyArg_ParseTuple(args, "OO:set_dummy_threads", &active, &dummy_type)) return nullptr;
  if (active != Py_None && !PyDict_Check(active)) {
    PyErr_SetString(PyExc_TypeError, "set_dummy_threads() expects threading._active (a dict) or None");
    return nullptr;
  }
  Py_XSETREF(g_threading_active, active == Py_None ? nullptr : Py_NewRef(active));
  Py_XSETREF(g_dummy_thread_type, dummy_type == Py_None ? nullptr : Py_NewRef(dummy_type));
  Py_RETURN_NONE;
}

// ------------------------------------------------------ spawn and the body --

// theframework.spawn(function, *args, **kwargs) in C: a Greenlet made and
// scheduled without a Python frame (Greenlet.__init__ in Python was most of
// the cost of a spawn).
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
  PyObject* values[kFieldCount] = {args[0], call_args.get(), call_kwargs.get(), Py_None,
                                   Py_None, Py_None,         Py_None,           Py_None};
  for (int i = 0; i < kFieldCount; ++i) set_field(g.get(), static_cast<TaskField>(i), values[i]);
  hub->schedule_switch(g.get(), nullptr);
  return g.release();
}

// The end of a Greenlet: drop what it ran, forget its dummy Thread, wake
// its joiners.
int finish_task(PyObject* g) {
  for (TaskField f : {kFunction, kArgs, kKwargs}) set_field(g, f, Py_None);
  if (g_threading_active && g_dummy_thread_type) {
    PyRef key = PyRef::steal(PyLong_FromVoidPtr(g));
    if (!key) return -1;
    PyObject* dummy = PyDict_GetItemWithError(g_threading_active, key.get());  // borrowed
    if (!dummy && PyErr_Occurred()) return -1;
    if (dummy && reinterpret_cast<PyObject*>(Py_TYPE(dummy)) == g_dummy_thread_type &&
        PyDict_DelItem(g_threading_active, key.get()) < 0)
      return -1;
  }
  PyRef joiners = PyRef::borrow(get_field(g, kJoiners));
  set_field(g, kJoiners, Py_None);
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
  PyObject* kill = get_field(g, kKillBeforeStart);
  if (kill != Py_None) {
    PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(kill)), kill);
    return nullptr;
  }
  PyRef fn = PyRef::borrow(get_field(g, kFunction));
  PyRef args = PyRef::borrow(get_field(g, kArgs));
  PyObject* kwargs = get_field(g, kKwargs);
  if (!PyTuple_Check(args.get()) || (kwargs != Py_None && !PyDict_Check(kwargs))) {
    PyErr_SetString(PyExc_TypeError, "Greenlet: args must be a tuple and kwargs a dict or None");
    return nullptr;
  }
  bool has_kwargs = PyDict_Check(kwargs) && PyDict_GET_SIZE(kwargs) > 0;
  PyRef call_kwargs = PyRef::borrow(has_kwargs ? kwargs : nullptr);
  stack_chunks::give_root_chunk_before(fn.get());
  return PyObject_Call(fn.get(), args.get(), call_kwargs.get());
}

// Records the outcome (`result` is stolen; null with an exception set) and
// ends the greenlet; an exception _failed() says is not ours to keep goes
// on to the hub.
[[gnu::noinline]] PyObject* end_task(PyObject* g, PyObject* result_or_null) {
  PyRef result = PyRef::steal(result_or_null);
  SavedError reraise;
  if (result) {
    set_field(g, kValue, result.get());
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
  // The slots are read by offset: only in a Greenlet.
  if (!g_task_base || !PyObject_TypeCheck(g.get(), g_task_base)) {
    PyErr_SetString(PyExc_TypeError, "run_current_task() runs only in a theframework Greenlet");
    return nullptr;
  }
  return end_task(g.get(), call_task_function(g.get()));
}

PyMethodDef g_methods[] = {
    {"task_base", task_base, METH_NOARGS, "task_base(): the greenlet subclass holding a Greenlet's state."},
    {"set_task_class", set_task_class, METH_O, "set_task_class(cls): the Greenlet class spawn() makes."},
    {"set_dummy_threads", set_dummy_threads, METH_VARARGS,
     "set_dummy_threads(threading._active, threading._DummyThread), or (None, None): a Greenlet's end\n"
     "forgets the dummy Thread made for it."},
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
