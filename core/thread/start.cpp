#include "core/thread/start.hpp"

#include <pythread.h>
#include <pthread.h>

#include "core/thread/lock.hpp"
#include "core/task/fiber.hpp"
#include "core/task/green_hub.hpp"
#include "core/py_ref.hpp"
#include "core/task/stack_chunks.hpp"

namespace tf::core {
namespace {

// _thread's originals, for where no hub runs.
struct Originals {
  PyObject* start = nullptr;     // _thread.start_new_thread
  PyObject* sentinel = nullptr;  // _thread._set_sentinel
};
Originals g_originals;
unsigned long g_live_threads = 0;  // fiber-threads running, all hubs (GIL)

// set_thread_originals(start_new_thread, _set_sentinel)
PyObject* set_thread_originals(PyObject*, PyObject* args) {
  PyObject *start, *sentinel;
  if (!PyArg_ParseTuple(args, "OO:set_thread_originals", &start, &sentinel)) return nullptr;
  Py_XSETREF(g_originals.start, Py_NewRef(start));
  Py_XSETREF(g_originals.sentinel, Py_NewRef(sentinel));
  Py_RETURN_NONE;
}

// start_new_thread(function, args[, kwargs]): python3's checks and
// messages; in code driven by a running hub the thread is a fiber, started
// at once (python3's Thread.start() waits until the thread runs); anywhere
// else a real thread.
PyObject* start_new_thread(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  if (!_PyArg_CheckPositional("start_new_thread", nargs, 2, 3)) return nullptr;
  PyObject* function = args[0];
  PyObject* call_args = args[1];
  PyObject* kwargs = nargs == 3 ? args[2] : nullptr;
  if (!PyCallable_Check(function)) {
    PyErr_SetString(PyExc_TypeError, "first arg must be callable");
    return nullptr;
  }
  if (!PyTuple_Check(call_args)) {
    PyErr_SetString(PyExc_TypeError, "2nd arg must be a tuple");
    return nullptr;
  }
  if (kwargs && !PyDict_Check(kwargs)) {
    PyErr_SetString(PyExc_TypeError, "optional 3rd arg must be a dictionary");
    return nullptr;
  }
  if (!g_originals.start) {
    PyErr_SetString(PyExc_RuntimeError, "start_new_thread(): _thread is not patched");
    return nullptr;
  }
  if (!GreenHub::cooperative_here()) return PyObject_Vectorcall(g_originals.start, args, nargs, nullptr);
  GreenHub* hub = GreenHub::current();
  PyRef f = PyRef::steal(fiber::create(function, call_args, kwargs));
  if (!f) return nullptr;
  PyObject* ident = PyLong_FromVoidPtr(f.get());
  if (!ident) return nullptr;
  if (hub->run_first(f.get()) == WaitStatus::kFailed) {
    Py_DECREF(ident);
    return nullptr;
  }
  return ident;
}

// _set_sentinel(): a lock that the current thread's end releases (the caller
// acquires it; Thread.join waits for it), as _thread does when a thread
// dies. A greenlet (not a thread) keeps its lock held.
PyObject* set_sentinel(PyObject*, PyObject*) {
  if (!GreenHub::cooperative_here() && g_originals.sentinel) return PyObject_CallNoArgs(g_originals.sentinel);
  PyRef lock = new_thread_lock();
  if (!lock) return nullptr;
  GreenHub* hub = GreenHub::current();
  if (PyObject* f = hub ? hub->fiber_here() : nullptr) {
    PyObject*& held = fiber::as(f)->sentinel;
    if (!held) {
      held = Py_NewRef(lock.get());
    } else if (PyList_Check(held)) {
      if (PyList_Append(held, lock.get()) < 0) return nullptr;
    } else {
      PyObject* both = PyList_New(2);
      if (!both) return nullptr;
      PyList_SET_ITEM(both, 0, held);  // the slot's reference moves to the list
      PyList_SET_ITEM(both, 1, Py_NewRef(lock.get()));
      held = both;
    }
  }
  return lock.release();
}

PyObject* thread_count(PyObject*, PyObject*) { return PyLong_FromUnsignedLong(g_live_threads); }

// Releases one sentinel and drops it from threading._shutdown_locks (what
// threading would prune later, in O(n) per thread: here in O(1)).
bool release_sentinel(PyObject* lock, PyObject* shutdown_locks) {
  release_thread_lock_if_held(lock);
  return !shutdown_locks || !PySet_Check(shutdown_locks) || PySet_Discard(shutdown_locks, lock) >= 0;
}

// Calls the thread's function as _thread does: SystemExit ends the thread
// quietly; any other exception goes to sys.unraisablehook. A bound method
// (Thread._bootstrap) is called through its function, and the method object
// is let go first: one object less per live thread, and no method_vectorcall
// frame on the C stack; a Python function is entered through
// _PyFunction_Vectorcall, without PyObject_Vectorcall's frame. Inlined into
// thread_fiber_main: these frames are copied off the C stack whenever the
// thread parks. `thrown`: an exception thrown in before the thread ran,
// raised in its place.
[[gnu::always_inline]] inline void call_thread_function(fiber::ThreadFiber* f, PyObject* thrown) {
  PyRef function = PyRef::borrow(f->function);
  PyRef args = PyRef::borrow(f->args);
  PyObject* kwargs = f->kwargs;
  bool has_kwargs = kwargs && PyDict_Check(kwargs) && PyDict_GET_SIZE(kwargs) > 0;
  PyObject* result;
  PyRef self;  // of a bound method, called through its function
  if (!thrown) stack_chunks::give_root_chunk_before(function.get());
  if (thrown) {
    PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(thrown)), thrown);
    result = nullptr;
  } else if (PyMethod_Check(function.get()) && !has_kwargs && PyTuple_GET_SIZE(args.get()) == 0) {
    self = PyRef::borrow(PyMethod_GET_SELF(function.get()));
    function = PyRef::borrow(PyMethod_GET_FUNCTION(function.get()));
    Py_CLEAR(f->function);
    PyObject* call_args[1] = {self.get()};
    result = PyFunction_Check(function.get()) ? _PyFunction_Vectorcall(function.get(), call_args, 1, nullptr)
                                              : PyObject_Vectorcall(function.get(), call_args, 1, nullptr);
  } else {
    result = PyObject_Call(function.get(), args.get(), has_kwargs ? kwargs : nullptr);
  }
  if (result) {
    Py_DECREF(result);
  } else if (PyErr_ExceptionMatches(PyExc_SystemExit)) {
    PyErr_Clear();
  } else {
    // The report names what was started, as python3's does.
    PyRef started = self ? PyRef::steal(PyMethod_New(function.get(), self.get())) : function;
    _PyErr_WriteUnraisableMsg("in thread started by", started ? started.get() : Py_None);
  }
}

// The end of a thread: what it ran is dropped and its sentinels released.
[[gnu::noinline]] bool end_thread(fiber::ThreadFiber* f) {
  Py_CLEAR(f->function);
  Py_CLEAR(f->args);
  Py_CLEAR(f->kwargs);
  PyRef sentinel = PyRef::steal(f->sentinel);
  f->sentinel = nullptr;
  if (!sentinel) return true;
  static PyObject* const threading_name = PyUnicode_InternFromString("threading");
  static PyObject* const shutdown_locks_name = PyUnicode_InternFromString("_shutdown_locks");
  if (!threading_name || !shutdown_locks_name) return false;
  PyObject* threading = PyDict_GetItemWithError(PyImport_GetModuleDict(), threading_name);  // borrowed
  PyRef shutdown_locks;
  if (threading) {
    shutdown_locks = PyRef::steal(PyObject_GetAttr(threading, shutdown_locks_name));
    if (!shutdown_locks) PyErr_Clear();  // threading half torn down at exit
  } else if (PyErr_Occurred()) {
    return false;
  }
  bool ok = true;
  if (PyList_Check(sentinel.get())) {
    for (Py_ssize_t i = 0; ok && i < PyList_GET_SIZE(sentinel.get()); ++i)
      ok = release_sentinel(PyList_GET_ITEM(sentinel.get(), i), shutdown_locks.get());
  } else {
    ok = release_sentinel(sentinel.get(), shutdown_locks.get());
  }
  return ok;
}

// An add() for threading._dangling while nobody has read it: a Thread (the
// only thing threading adds) is left out, to be found again by a scan of the
// collector's objects on the first read; any other call goes to `fallback`
// as made (which turns the set into a real one first, and so gives bad
// arguments WeakSet.add's own errors). `state` is (Thread, fallback).
PyObject* lazy_add(PyObject* state, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
  if (nargs == 1 && !kwnames &&
      PyObject_TypeCheck(args[0], reinterpret_cast<PyTypeObject*>(PyTuple_GET_ITEM(state, 0))))
    Py_RETURN_NONE;
  return PyObject_Vectorcall(PyTuple_GET_ITEM(state, 1), args, static_cast<size_t>(nargs), kwnames);
}

PyMethodDef g_lazy_add_def = {"add", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(lazy_add)),
                              METH_FASTCALL | METH_KEYWORDS, "Add an element."};

// lazy_adder(thread_class, fallback)
PyObject* lazy_adder(PyObject*, PyObject* args) {
  PyObject *cls, *fallback;
  if (!PyArg_ParseTuple(args, "O!O:lazy_adder", &PyType_Type, &cls, &fallback)) return nullptr;
  PyRef state = PyRef::steal(PyTuple_Pack(2, cls, fallback));
  return state ? PyCFunction_NewEx(&g_lazy_add_def, state.get(), nullptr) : nullptr;
}

// instances_of(objects, cls): the items of the list that are instances of
// cls (the scan above, over gc.get_objects(), without a Python loop).
PyObject* instances_of(PyObject*, PyObject* args) {
  PyObject *objects, *cls;
  if (!PyArg_ParseTuple(args, "O!O!:instances_of", &PyList_Type, &objects, &PyType_Type, &cls)) return nullptr;
  PyRef found = PyRef::steal(PyList_New(0));
  if (!found) return nullptr;
  for (Py_ssize_t i = 0; i < PyList_GET_SIZE(objects); ++i) {
    PyObject* o = PyList_GET_ITEM(objects, i);
    if (PyObject_TypeCheck(o, reinterpret_cast<PyTypeObject*>(cls)) && PyList_Append(found.get(), o) < 0)
      return nullptr;
  }
  return found.release();
}

// get_native_id(): the kernel's id of this OS thread, which every
// fiber-thread on it shares. Asked of the kernel once per OS thread (a
// syscall each time in python3); a forked child's only thread asks again.
// The int is kept too: every started Thread stores one in _native_id, and
// 100k of them were 3 MB of equal ints.
thread_local long t_native_id = 0;
thread_local PyObject* t_native_id_object = nullptr;  // one int per OS thread, kept for its life

void forget_native_id_in_child() {
  t_native_id = 0;
  t_native_id_object = nullptr;  // the parent's int stays allocated: one object, not worth a GIL
}

PyObject* get_native_id(PyObject*, PyObject*) {
  if (t_native_id == 0) t_native_id = static_cast<long>(PyThread_get_thread_native_id());
  if (!t_native_id_object) t_native_id_object = PyLong_FromLong(t_native_id);
  return Py_XNewRef(t_native_id_object);
}

PyMethodDef g_get_native_id_def = {
    "get_native_id", get_native_id, METH_NOARGS,
    "get_native_id() -> integer\n\nReturn a non-negative integer identifying the thread as reported\n"
    "by the OS (kernel). This may be used to uniquely identify a\nparticular thread within a system."};

PyMethodDef g_start_new_thread_def = {
    "start_new_thread", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(start_new_thread)),
    METH_FASTCALL,
    "start_new_thread(function, args[, kwargs])\n(start_new() is an obsolete synonym)\n\n"
    "Start a new thread and return its identifier.  The thread will call the\n"
    "function with positional arguments from the tuple args and keyword arguments\n"
    "taken from the optional dictionary kwargs.  The thread exits when the\n"
    "function returns; the return value is ignored.  The thread will also exit\n"
    "when the function raises an unhandled exception; a stack trace will be\n"
    "printed unless the exception is SystemExit.\n"};
PyMethodDef g_set_sentinel_def = {
    "_set_sentinel", set_sentinel, METH_NOARGS,
    "_set_sentinel() -> lock\n\nSet a sentinel lock that will be released when the current thread\n"
    "state is finalized (after it is untied from the interpreter).\n\n"
    "This is a private API for the threading module."};
PyMethodDef g_count_def = {
    "_count", thread_count, METH_NOARGS,
    "_count() -> integer\n\nReturn the number of currently running Python threads, excluding\n"
    "the main thread. The returned number comprises all threads created\n"
    "through `start_new_thread()` as well as `threading.Thread`, and not\n"
    "yet finished.\n\nThis function is meant for internal and specialized purposes only.\n"
    "In most applications `threading.enumerate()` should be used instead."};
PyMethodDef g_private_defs[] = {
    {"set_thread_originals", set_thread_originals, METH_VARARGS,
     "set_thread_originals(start_new_thread, _set_sentinel): _thread's, for where no hub runs."},
    {"lazy_adder", lazy_adder, METH_VARARGS,
     "lazy_adder(thread_class, fallback): an add() that leaves out instances of thread_class."},
    {"instances_of", instances_of, METH_VARARGS,
     "instances_of(objects, cls): the objects of the list that are instances of cls."},
    {nullptr, nullptr, 0, nullptr}};

}  // namespace

// One frame under the thread's function (call_thread_function is inlined):
// every frame here is copied whenever the thread parks.
void thread_fiber_main(void* arg) {
  auto* hub = static_cast<GreenHub*>(arg);
  PyObject* thrown;
  PyObject* fiber_object = hub->starting_fiber(&thrown);
  fiber::ThreadFiber* f = fiber::as(fiber_object);
  PyThreadState* ts = PyThreadState_Get();
  _PyCFrame root;
  fiber::begin_thread_state(ts, &root);
  ++g_live_threads;
  call_thread_function(f, thrown);
  --g_live_threads;
  // As PyThreadState_Clear at a thread's end: its locals go before join()
  // returns.
  fiber::clear_thread_own_state(ts);
  if (!end_thread(f)) _PyErr_WriteUnraisableMsg("at the end of a thread", fiber_object);
  fiber::end_thread_state(ts);
  hub->exit_fiber();
}

int add_thread_start(PyObject* module) {
  static bool registered = false;
  if (!registered) registered = pthread_atfork(nullptr, nullptr, forget_native_id_in_child) == 0;
  if (fiber::add_type(module) < 0) return -1;
  // What replaces _thread's functions carries _thread's names and module.
  PyRef module_name = PyRef::steal(PyUnicode_FromString("_thread"));
  if (!module_name) return -1;
  for (PyMethodDef* def : {&g_start_new_thread_def, &g_set_sentinel_def, &g_count_def, &g_get_native_id_def}) {
    PyRef fn = PyRef::steal(PyCFunction_NewEx(def, nullptr, module_name.get()));
    if (!fn || PyModule_AddObjectRef(module, def->ml_name, fn.get()) < 0) return -1;
  }
  for (PyMethodDef* def = g_private_defs; def->ml_name; ++def) {
    PyRef fn = PyRef::steal(PyCFunction_NewEx(def, nullptr, nullptr));
    if (!fn || PyModule_AddObjectRef(module, def->ml_name, fn.get()) < 0) return -1;
  }
  return 0;
}

}  // namespace tf::core
