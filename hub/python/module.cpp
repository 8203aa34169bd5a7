// _framework_core: the CPython entry points. Each function parses its
// arguments, forwards to GreenHub and turns the outcome into a Python
// result; the model lives in green_hub.cpp.
#include <Python.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <vector>

#include "hub/python/green_hub.hpp"
#include "hub/python/greenlet_api.hpp"
#include "hub/python/module.hpp"
#include "hub/python/coop_lock.hpp"
#include "hub/python/thread_local.hpp"
#include "hub/python/epoll_object.hpp"
#include "hub/python/entry_point_scan.hpp"
#include "hub/python/file_io.hpp"
#include "hub/python/method_patch.hpp"
#include "hub/python/name_info.hpp"
#include "hub/python/prompt_input.hpp"
#include "hub/python/shell_command.hpp"
#include "hub/python/signal_pause.hpp"
#include "hub/python/green_thread.hpp"
#include "hub/python/hidden_frames.hpp"
#include "hub/python/socket_ops.hpp"
#include "hub/python/ssl_ops.hpp"
#include "hub/python/stack_chunks.hpp"
#include "hub/shared_stack.hpp"

namespace tf::core {
namespace {

PyObject* g_timed_out = nullptr;     // the TIMED_OUT sentinel
PyObject* g_original_sleep = nullptr;

// None -> -1 (no limit); a number -> seconds, negative clamped to 0.
bool parse_timeout(PyObject* obj, double* out) {
  if (obj == nullptr || obj == Py_None) {
    *out = -1;
    return true;
  }
  double t = PyFloat_AsDouble(obj);
  if (t == -1.0 && PyErr_Occurred()) return false;
  if (std::isnan(t)) {
    PyErr_SetString(PyExc_ValueError, "Invalid value NaN (not a number)");
    return false;
  }
  *out = t < 0 ? 0 : t;
  return true;
}

GreenHub* running_hub_or_raise() {
  GreenHub* hub = GreenHub::current();
  if (!hub || !hub->running()) {
    PyErr_SetString(PyExc_RuntimeError, "no hub is running in this thread");
    return nullptr;
  }
  return hub;
}

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

// TFPYTHON_BACKEND, read once when the module is made (tfpython's launcher
// has checked it already; under plain python3 this is the only check).
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

PyObject* run(PyObject*, PyObject* callable) {
  if (!greenlet::import_api()) return nullptr;
  return GreenHub::for_this_thread().run(callable).release();
}

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

// wait_signals(signals[, timeout]): sigwait/sigwaitinfo (no timeout) and
// sigtimedwait for the hub: a signalfd for the set, readable on the ring
// (the timeout is the wait's own ring timer). Returns the siginfo fields
// (signo, code, errno, pid, uid, status, band), or None at the timeout;
// NotImplemented when a signal of the set is not blocked in this thread
// (signalfd would never see it: the caller uses the original). A bad
// timeout gets python3's sigtimedwait errors.
PyObject* wait_signals(PyObject*, PyObject* args) {
  PyObject* signals;
  PyObject* timeout_obj = nullptr;
  if (!PyArg_ParseTuple(args, "O|O:wait_signals", &signals, &timeout_obj)) return nullptr;
  _PyTime_t deadline = 0;
  if (timeout_obj) {
    _PyTime_t timeout;
    if (_PyTime_FromSecondsObject(&timeout, timeout_obj, _PyTime_ROUND_CEILING) < 0) return nullptr;
    if (timeout < 0) {
      PyErr_SetString(PyExc_ValueError, "timeout must be non-negative");
      return nullptr;
    }
    deadline = _PyTime_GetMonotonicClock() + timeout;
  }
  sigset_t wanted, blocked;
  sigemptyset(&wanted);
  PyRef items = PyRef::steal(PySequence_Fast(signals, "signals must be iterable"));
  if (!items) return nullptr;
  for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(items.get()); ++i) {
    long signum = PyLong_AsLong(PySequence_Fast_GET_ITEM(items.get(), i));
    if (signum == -1 && PyErr_Occurred()) return nullptr;
    if (signum <= 0 || signum >= NSIG) {
      PyErr_Format(PyExc_ValueError, "signal number %ld out of range [1; %i]", signum, NSIG - 1);
      return nullptr;
    }
    sigaddset(&wanted, static_cast<int>(signum));
  }
  pthread_sigmask(SIG_BLOCK, nullptr, &blocked);
  for (int signum = 1; signum < NSIG; ++signum)
    if (sigismember(&wanted, signum) == 1 && sigismember(&blocked, signum) != 1) Py_RETURN_NOTIMPLEMENTED;
  int fd = signalfd(-1, &wanted, SFD_NONBLOCK | SFD_CLOEXEC);
  if (fd < 0) return PyErr_SetFromErrno(PyExc_OSError);
  PyObject* result = nullptr;
  for (;;) {
    signalfd_siginfo info;
    ssize_t n = ::read(fd, &info, sizeof info);
    if (n == static_cast<ssize_t>(sizeof info)) {
      result = Py_BuildValue("(iiiiIiL)", static_cast<int>(info.ssi_signo), info.ssi_code, info.ssi_errno,
                             static_cast<int>(info.ssi_pid), info.ssi_uid, info.ssi_status,
                             static_cast<long long>(info.ssi_band));
      break;
    }
    if (n < 0 && errno != EAGAIN && errno != EINTR) {
      PyErr_SetFromErrno(PyExc_OSError);
      break;
    }
    double left = -1;
    if (timeout_obj) {
      _PyTime_t rest = deadline - _PyTime_GetMonotonicClock();
      if (rest <= 0) {
        result = Py_NewRef(Py_None);
        break;
      }
      left = _PyTime_AsSecondsDouble(rest);
    }
    int32_t revents;
    if (GreenHub::current()->wait_fd(fd, POLLIN, left, &revents) == WaitStatus::kFailed) break;
  }
  GreenHub::current()->loop().forget_fd(fd);
  ::close(fd);
  return result;
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

// Blocking poll() with the GIL released: the path outside any hub.
int blocking_poll(int fd, short events, double timeout, int32_t* revents) {
  pollfd p{fd, events, 0};
  int ms = timeout < 0 ? -1 : static_cast<int>(std::ceil(timeout * 1000));
  for (;;) {
    int rc;
    Py_BEGIN_ALLOW_THREADS rc = ::poll(&p, 1, ms);
    Py_END_ALLOW_THREADS if (rc >= 0) {
      *revents = rc ? p.revents : 0;
      return rc;
    }
    if (errno != EINTR) {
      PyErr_SetFromErrno(PyExc_OSError);
      return -1;
    }
    if (PyErr_CheckSignals() < 0) return -1;
  }
}

PyObject* wait_fd_entry(PyObject* const* args, Py_ssize_t nargs, short events, const char* name) {
  if (!_PyArg_CheckPositional(name, nargs, 1, 2)) return nullptr;
  int fd = PyObject_AsFileDescriptor(args[0]);
  if (fd < 0) return nullptr;
  double timeout;
  if (!parse_timeout(nargs > 1 ? args[1] : nullptr, &timeout)) return nullptr;
  int32_t revents = 0;
  if (!GreenHub::cooperative_here()) {
    int rc = blocking_poll(fd, events, timeout, &revents);
    if (rc < 0) return nullptr;
    return PyBool_FromLong(rc > 0);
  }
  switch (GreenHub::current()->wait_fd(fd, events, timeout, &revents)) {
    case WaitStatus::kFailed:
      return nullptr;
    case WaitStatus::kTimedOut:
      Py_RETURN_FALSE;
    case WaitStatus::kReady:
      break;
  }
  if (revents < 0) {
    errno = -revents;
    return PyErr_SetFromErrno(PyExc_OSError);
  }
  Py_RETURN_TRUE;
}

PyObject* wait_readable(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  return wait_fd_entry(args, nargs, POLLIN, "wait_readable");
}

PyObject* wait_writable(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  return wait_fd_entry(args, nargs, POLLOUT, "wait_writable");
}

// The Waiter object (below); wait_any() also parks on one.
struct WaiterObject {
  PyObject_HEAD
  uint64_t name;  // the parked greenlet's waiter name; 0 when nobody waits
  uint64_t hub_serial;
};

PyTypeObject* g_waiter_type = nullptr;  // strong, for the life of the process

void publish_waiter_name(void* ctx, uint64_t name) { static_cast<WaiterObject*>(ctx)->name = name; }

// wait_any([(fd, events), ...], timeout=None, waiter=None) -> bool: True
// when one of them is ready (or `waiter` was woken), False at the timeout.
// For select and poll; a shared poll object passes a Waiter so that a
// registration made meanwhile reaches the wait.
PyObject* wait_any(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  if (!_PyArg_CheckPositional("wait_any", nargs, 1, 3)) return nullptr;
  double timeout;
  if (!parse_timeout(nargs > 1 ? args[1] : nullptr, &timeout)) return nullptr;
  WaiterObject* waiter = nullptr;
  if (nargs > 2 && args[2] != Py_None) {
    if (!PyObject_TypeCheck(args[2], g_waiter_type)) {
      PyErr_SetString(PyExc_TypeError, "wait_any(): waiter must be a Waiter");
      return nullptr;
    }
    waiter = reinterpret_cast<WaiterObject*>(args[2]);
    if (waiter->name) {
      PyErr_SetString(PyExc_RuntimeError, "another greenlet is already waiting on this Waiter");
      return nullptr;
    }
  }
  if (!GreenHub::cooperative_here()) {
    PyErr_SetString(PyExc_RuntimeError, "wait_any() needs a running hub in this thread");
    return nullptr;
  }
  PyRef seq = PyRef::steal(PySequence_Fast(args[0], "wait_any() expects a sequence of (fd, events)"));
  if (!seq) return nullptr;
  std::vector<std::pair<int, uint32_t>> fds;
  Py_ssize_t n = PySequence_Fast_GET_SIZE(seq.get());
  fds.reserve(n);
  for (Py_ssize_t i = 0; i < n; ++i) {
    int fd;
    unsigned int events;
    if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(seq.get(), i), "iI", &fd, &events)) return nullptr;
    fds.emplace_back(fd, events);
  }
  GreenHub* hub = GreenHub::current();
  PyRef keep_waiter = PyRef::borrow(reinterpret_cast<PyObject*>(waiter));  // must outlive the wait
  if (waiter) waiter->hub_serial = hub->serial();
  void (*publish)(void*, uint64_t) = waiter ? publish_waiter_name : nullptr;
  WaitStatus status;
  if (fds.empty() && !waiter && timeout >= 0) {
    // Nothing to watch: a plain timed wait (select([], [], [], t)).
    if (hub->sleep(timeout) == WaitStatus::kFailed) return nullptr;
    Py_RETURN_FALSE;
  }
  if (fds.empty()) {
    PyRef value;
    status = hub->park(timeout, &value, publish, waiter);
  } else {
    status = hub->wait_any(fds, timeout, publish, waiter);
  }
  if (waiter) waiter->name = 0;
  switch (status) {
    case WaitStatus::kFailed:
      return nullptr;
    case WaitStatus::kTimedOut:
      Py_RETURN_FALSE;
    case WaitStatus::kReady:
      break;
  }
  Py_RETURN_TRUE;
}

// time.sleep, cooperative inside a hub. `original` is the function it
// replaces: outside a hub it is called unchanged.
PyObject* cooperative_sleep(PyObject*, PyObject* arg) {
  if (!GreenHub::cooperative_here()) return PyObject_CallOneArg(g_original_sleep, arg);
  _PyTime_t t;
  // CPython's own conversion, so bad input gets python3's exact errors.
  if (_PyTime_FromSecondsObject(&t, arg, _PyTime_ROUND_TIMEOUT) < 0) return nullptr;
  if (t < 0) {
    PyErr_SetString(PyExc_ValueError, "sleep length must be non-negative");
    return nullptr;
  }
  if (GreenHub::current()->sleep(_PyTime_AsSecondsDouble(t)) == WaitStatus::kFailed) return nullptr;
  Py_RETURN_NONE;
}

PyMethodDef g_sleep_def = {"sleep", cooperative_sleep, METH_O, nullptr};

// A time.sleep that introspects like the original: a builtin function of
// module "time", bound to the time module, with the original's docstring
// (and so python3's wording in argument errors: "time.sleep() takes...").
PyObject* make_sleep(PyObject*, PyObject* original) {
  if (!PyCFunction_Check(original)) {
    PyErr_SetString(PyExc_TypeError, "make_sleep() expects the builtin time.sleep");
    return nullptr;
  }
  Py_XSETREF(g_original_sleep, Py_NewRef(original));
  g_sleep_def.ml_doc = reinterpret_cast<PyCFunctionObject*>(original)->m_ml->ml_doc;
  PyObject* time_module = PyCFunction_GET_SELF(original);
  PyRef module_name = PyRef::steal(PyUnicode_FromString("time"));
  return PyCFunction_NewEx(&g_sleep_def, time_module, module_name.get());
}

// importlib's _find_and_load, wrapped so that a module named in `pending`
// is patched (apply(module)) before its importer sees it; names stay
// pending, so a fresh copy of a module (test.support's import_fresh_module)
// is patched too. In C, so that no frame of ours shows in the traceback of
// a failing import.
// self = (original, pending set, apply).
PyObject* patching_find_and_load(PyObject* self, PyObject* const* args, Py_ssize_t nargs) {
  PyObject* original = PyTuple_GET_ITEM(self, 0);
  PyObject* pending = PyTuple_GET_ITEM(self, 1);
  PyObject* apply = PyTuple_GET_ITEM(self, 2);
  PyObject* module = PyObject_Vectorcall(original, args, nargs, nullptr);
  if (!module || nargs < 1) return module;
  int wanted = PySet_Contains(pending, args[0]);
  if (wanted <= 0) {
    if (wanted < 0) Py_CLEAR(module);
    return module;
  }
  PyRef done = PyRef::steal(PyObject_CallOneArg(apply, module));
  if (!done) Py_CLEAR(module);
  return module;
}

PyMethodDef g_find_and_load_def = {"_find_and_load", reinterpret_cast<PyCFunction>(patching_find_and_load),
                                   METH_FASTCALL, nullptr};

PyObject* make_find_and_load(PyObject*, PyObject* args) {
  PyObject *original, *pending, *apply;
  if (!PyArg_ParseTuple(args, "OO!O:make_find_and_load", &original, &PySet_Type, &pending, &apply))
    return nullptr;
  PyRef state = PyRef::steal(PyTuple_Pack(3, original, pending, apply));
  if (!state) return nullptr;
  return PyCFunction_New(&g_find_and_load_def, state.get());
}

PyObject* after_fork_in_child(PyObject*, PyObject*) {
  if (GreenHub* hub = GreenHub::current()) hub->after_fork_in_child();
  Py_RETURN_NONE;
}

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

// ---------------------------------------------------------------- module --

PyMethodDef g_methods[] = {
    {"hub_is_running", hub_is_running, METH_NOARGS,
     "True when called from a greenlet driven by this thread's running hub."},
    {"run", run, METH_O, "run(callable): run callable() in a greenlet driven by this thread's hub."},
    {"backend", backend, METH_NOARGS, "backend() -> 'io_uring' or 'epoll': the engine of this thread's hub."},
    {"set_task_class", set_task_class, METH_O, "set_task_class(cls): the Greenlet class spawn() makes."},
    {"spawn", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(spawn_task)),
     METH_FASTCALL | METH_KEYWORDS,
     "spawn(function, *args, **kwargs): start function(*args, **kwargs) in a new greenlet; returns its handle."},
    {"wait_signals", wait_signals, METH_VARARGS,
     "wait_signals(signals[, timeout]): siginfo fields of a pending signal of the set, None at the timeout."},
    {"spawn_raw", spawn_raw, METH_O, "spawn_raw(callable): a new greenlet, child of the hub, scheduled."},
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
    {"run_current_task", run_current_task, METH_NOARGS,
     "run_current_task(): the body of the current theframework.Greenlet."},
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
    {"wait_readable", reinterpret_cast<PyCFunction>(wait_readable), METH_FASTCALL,
     "wait_readable(fd, timeout=None) -> bool (False on timeout)"},
    {"wait_writable", reinterpret_cast<PyCFunction>(wait_writable), METH_FASTCALL,
     "wait_writable(fd, timeout=None) -> bool (False on timeout)"},
    {"make_sleep", make_sleep, METH_O, "make_sleep(original): a cooperative time.sleep."},
    {"wait_any", reinterpret_cast<PyCFunction>(wait_any), METH_FASTCALL,
     "wait_any([(fd, events), ...], timeout=None, waiter=None) -> bool (False on timeout; True when an fd\n"
     "is ready or waiter was woken)"},
    {"_after_fork_in_child", after_fork_in_child, METH_NOARGS, nullptr},
    {"make_find_and_load", make_find_and_load, METH_VARARGS,
     "make_find_and_load(original, pending, apply): importlib's _find_and_load that patches\n"
     "on import."},
    {nullptr, nullptr, 0, nullptr}};

PyModuleDef g_module = {PyModuleDef_HEAD_INIT, "_framework_core",
                        "The io_uring hub and the cooperative primitives of tfpython.", -1,
                        g_methods};

int add_objects(PyObject* m) {
  DeadlockError = PyErr_NewExceptionWithDoc(
      "_framework_core.DeadlockError",
      "Every greenlet waits and nothing (timer, I/O, thread, signal) can wake them.",
      PyExc_RuntimeError, nullptr);
  if (!DeadlockError || PyModule_AddObjectRef(m, "DeadlockError", DeadlockError) < 0) return -1;
  g_timed_out = PyObject_CallNoArgs(reinterpret_cast<PyObject*>(&PyBaseObject_Type));
  if (!g_timed_out || PyModule_AddObjectRef(m, "TIMED_OUT", g_timed_out) < 0) return -1;
  if (!g_waiter_type) g_waiter_type = reinterpret_cast<PyTypeObject*>(PyType_FromSpec(&g_waiter_spec));
  if (!g_waiter_type || PyModule_AddObjectRef(m, "Waiter", reinterpret_cast<PyObject*>(g_waiter_type)) < 0)
    return -1;
  PyRef time = PyRef::steal(PyImport_ImportModule("time"));
  if (!time) return -1;
  g_original_sleep = PyObject_GetAttrString(time.get(), "sleep");
  if (!g_original_sleep) return -1;
  PyRef sleep = PyRef::steal(make_sleep(m, g_original_sleep));
  if (!sleep || PyModule_AddObjectRef(m, "sleep", sleep.get()) < 0) return -1;
  return 0;
}

}  // namespace

PyObject* init_module() {
  stack_chunks::install();
  if (apply_backend_preference() < 0) return nullptr;
  PyRef m = PyRef::steal(PyModule_Create(&g_module));
  if (!m || add_objects(m.get()) < 0 || add_socket_ops(m.get()) < 0 || add_ssl_ops(m.get()) < 0 ||
      add_hidden_frames(m.get()) < 0 || add_coop_lock(m.get()) < 0 || add_thread_local(m.get()) < 0 ||
      add_green_thread(m.get()) < 0 || add_file_io(m.get()) < 0 || add_epoll_object(m.get()) < 0 ||
      add_method_patch(m.get()) < 0 || add_entry_point_scan(m.get()) < 0 ||
      add_shell_command(m.get()) < 0 || add_signal_pause(m.get()) < 0 || add_name_info(m.get()) < 0 ||
      add_prompt_input(m.get()) < 0)
    return nullptr;
  return m.release();
}

}  // namespace tf::core

PyMODINIT_FUNC PyInit__framework_core() { return tf::core::init_module(); }
