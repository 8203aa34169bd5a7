#include "hub/python/coop_lock.hpp"

#include <pythread.h>
#include <structmember.h>

#include <deque>
#include <memory>

#include "hub/python/green_hub.hpp"
#include "hub/python/py_ref.hpp"

namespace tf::core {
namespace {

// An OS thread's private lock, held while it waits: releasing it wakes the
// thread. Shared with the queue entry, which may outlive the wait.
struct RealWait {
  PyThread_type_lock lock = PyThread_allocate_lock();
  ~RealWait() {
    if (lock) PyThread_free_lock(lock);
  }
};

// Who waits: a greenlet parked on a hub (by the hub's serial and the
// waiter's name), or an OS thread.
struct LockWaiter {
  uint64_t hub_serial = 0;
  uint64_t name = 0;
  std::shared_ptr<RealWait> real;
};

struct CoopLock {
  PyObject_HEAD
  bool locked;
  std::deque<LockWaiter>* waiters;  // made on first contention
  PyObject* weakrefs;
};

PyTypeObject* g_lock_type = nullptr;

CoopLock* as_lock(PyObject* o) { return reinterpret_cast<CoopLock*>(o); }

// Wakes the first waiter that is still waiting; false when none is.
bool wake_one(CoopLock* self) {
  while (self->waiters && !self->waiters->empty()) {
    LockWaiter w = std::move(self->waiters->front());
    self->waiters->pop_front();
    if (w.real) {
      PyThread_release_lock(w.real->lock);
      return true;
    }
    GreenHub* here = GreenHub::current();
    if (here && here->serial() == w.hub_serial) {
      if (here->running() && here->wake(w.name, Py_None)) return true;
      continue;  // gave up already (timed out, killed): the next one
    }
    if (GreenHub* other = GreenHub::by_serial(w.hub_serial)) {
      other->wake_threadsafe(w.name, Py_None);
      return true;
    }
  }
  return false;
}

// Removes our entry if a waker has not taken it; true if it was still there.
bool withdraw(CoopLock* self, const LockWaiter& me) {
  if (!self->waiters) return false;
  for (auto it = self->waiters->begin(); it != self->waiters->end(); ++it) {
    bool same = me.real ? it->real == me.real : (it->hub_serial == me.hub_serial && it->name == me.name);
    if (same) {
      self->waiters->erase(it);
      return true;
    }
  }
  return false;
}

struct ParkContext {
  CoopLock* lock;
  LockWaiter* entry;
};

void enqueue_parked(void* ctx, uint64_t name) {
  auto* c = static_cast<ParkContext*>(ctx);
  c->entry->name = name;
  c->lock->waiters->push_back(*c->entry);
}

enum class Outcome { kWoken, kTimedOut, kFailed };

// One wait in the queue: parked on the hub, or blocked on an OS lock.
Outcome wait_once(CoopLock* self, LockWaiter* entry, _PyTime_t timeout) {
  if (GreenHub::cooperative_here()) {
    GreenHub* hub = GreenHub::current();
    entry->hub_serial = hub->serial();
    ParkContext ctx{self, entry};
    PyRef ignored;
    double seconds = timeout < 0 ? -1.0 : _PyTime_AsSecondsDouble(timeout);
    switch (hub->park(seconds, &ignored, enqueue_parked, &ctx)) {
      case WaitStatus::kReady:
        return Outcome::kWoken;
      case WaitStatus::kTimedOut:
        return Outcome::kTimedOut;
      case WaitStatus::kFailed:
        return Outcome::kFailed;
    }
  }
  entry->real = std::make_shared<RealWait>();
  if (!entry->real->lock) {
    PyErr_SetString(PyExc_RuntimeError, "can't allocate lock");
    return Outcome::kFailed;
  }
  PyThread_acquire_lock(entry->real->lock, 1);
  self->waiters->push_back(*entry);
  PY_TIMEOUT_T us = timeout < 0 ? -1 : _PyTime_AsMicroseconds(timeout, _PyTime_ROUND_TIMEOUT);
  PyLockStatus r;
  Py_BEGIN_ALLOW_THREADS
  r = PyThread_acquire_lock_timed(entry->real->lock, us, /*intr_flag=*/1);
  Py_END_ALLOW_THREADS
  if (r == PY_LOCK_INTR) return PyErr_CheckSignals() < 0 ? Outcome::kFailed : Outcome::kWoken;
  return r == PY_LOCK_ACQUIRED ? Outcome::kWoken : Outcome::kTimedOut;
}

// Waits for the lock; timeout < 0: no limit. -1 with an exception, else 0/1.
int acquire_slow(CoopLock* self, _PyTime_t timeout) {
  _PyTime_t deadline = timeout < 0 ? -1 : _PyTime_GetMonotonicClock() + timeout;
  if (!self->waiters) self->waiters = new std::deque<LockWaiter>();
  Py_INCREF(self);  // the lock outlives our wait even if its owner drops it
  int result;
  for (;;) {
    _PyTime_t left = deadline < 0 ? -1 : deadline - _PyTime_GetMonotonicClock();
    if (left < 0 && deadline >= 0) left = 0;
    LockWaiter entry;
    Outcome outcome = wait_once(self, &entry, left);
    bool still_queued = withdraw(self, entry);
    if (outcome == Outcome::kFailed) {
      // Woken, then interrupted before we could take it: pass it on.
      if (!still_queued && !self->locked) wake_one(self);
      result = -1;
      break;
    }
    if (!self->locked) {
      self->locked = true;
      result = 1;
      break;
    }
    if (outcome == Outcome::kTimedOut || (deadline >= 0 && _PyTime_GetMonotonicClock() >= deadline)) {
      result = 0;
      break;
    }
    // Woken, but another caller took the lock first: wait again.
  }
  Py_DECREF(self);
  return result;
}

// python3's argument rules and messages (Modules/_threadmodule.c).
bool parse_acquire_args(PyObject* args, PyObject* kwargs, _PyTime_t* timeout) {
  static const char* keywords[] = {"blocking", "timeout", nullptr};
  int blocking = 1;
  PyObject* timeout_obj = nullptr;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|pO:acquire", const_cast<char**>(keywords), &blocking,
                                   &timeout_obj))
    return false;
  const _PyTime_t unset = _PyTime_FromSeconds(-1);
  *timeout = unset;
  if (timeout_obj && _PyTime_FromSecondsObject(timeout, timeout_obj, _PyTime_ROUND_TIMEOUT) < 0) return false;
  if (!blocking && *timeout != unset) {
    PyErr_SetString(PyExc_ValueError, "can't specify a timeout for a non-blocking call");
    return false;
  }
  if (*timeout < 0 && *timeout != unset) {
    PyErr_SetString(PyExc_ValueError, "timeout value must be a non-negative number");
    return false;
  }
  if (!blocking) {
    *timeout = 0;
  } else if (*timeout != unset) {
    if (_PyTime_AsMicroseconds(*timeout, _PyTime_ROUND_TIMEOUT) > PY_TIMEOUT_MAX) {
      PyErr_SetString(PyExc_OverflowError, "timeout value is too large");
      return false;
    }
  } else {
    *timeout = -1;
  }
  return true;
}

PyObject* Lock_acquire(PyObject* o, PyObject* args, PyObject* kwargs) {
  _PyTime_t timeout;
  if (!parse_acquire_args(args, kwargs, &timeout)) return nullptr;
  CoopLock* self = as_lock(o);
  if (!self->locked) {
    self->locked = true;
    Py_RETURN_TRUE;
  }
  if (timeout == 0) Py_RETURN_FALSE;
  int r = acquire_slow(self, timeout);
  return r < 0 ? nullptr : PyBool_FromLong(r);
}

PyObject* Lock_release(PyObject* o, PyObject*) {
  CoopLock* self = as_lock(o);
  if (!self->locked) {
    PyErr_SetString(PyExc_RuntimeError, "release unlocked lock");
    return nullptr;
  }
  self->locked = false;
  wake_one(self);
  Py_RETURN_NONE;
}

PyObject* Lock_exit(PyObject* o, PyObject*) { return Lock_release(o, nullptr); }

PyObject* Lock_locked(PyObject* o, PyObject*) { return PyBool_FromLong(as_lock(o)->locked); }

PyObject* Lock_at_fork_reinit(PyObject* o, PyObject*) {
  CoopLock* self = as_lock(o);
  self->locked = false;
  if (self->waiters) self->waiters->clear();  // their greenlets and threads are the parent's
  Py_RETURN_NONE;
}

PyObject* Lock_repr(PyObject* o) {
  return PyUnicode_FromFormat("<%s %s object at %p>", as_lock(o)->locked ? "locked" : "unlocked",
                              Py_TYPE(o)->tp_name, o);
}

void Lock_dealloc(PyObject* o) {
  CoopLock* self = as_lock(o);
  PyTypeObject* type = Py_TYPE(o);
  if (self->weakrefs) PyObject_ClearWeakRefs(o);
  delete self->waiters;
  type->tp_free(o);
  Py_DECREF(type);
}

#define ACQUIRE_DOC \
  "acquire(blocking=True, timeout=-1) -> bool\n(acquire_lock() is an obsolete synonym)\n\n" \
  "Lock the lock.  Without argument, this blocks if the lock is already\n" \
  "locked (even by the same thread), waiting for another thread to release\n" \
  "the lock, and return True once the lock is acquired.\n" \
  "With an argument, this will only block if the argument is true,\n" \
  "and the return value reflects whether the lock is acquired.\n" \
  "The blocking operation is interruptible."
#define RELEASE_DOC \
  "release()\n(release_lock() is an obsolete synonym)\n\n" \
  "Release the lock, allowing another thread that is blocked waiting for\n" \
  "the lock to acquire the lock.  The lock must be in the locked state,\n" \
  "but it needn't be locked by the same thread that unlocks it."
#define LOCKED_DOC "locked() -> bool\n(locked_lock() is an obsolete synonym)\n\nReturn whether the lock is in the locked state."

PyMethodDef g_lock_methods[] = {
    {"acquire_lock", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(Lock_acquire)),
     METH_VARARGS | METH_KEYWORDS, ACQUIRE_DOC},
    {"acquire", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(Lock_acquire)),
     METH_VARARGS | METH_KEYWORDS, ACQUIRE_DOC},
    {"release_lock", Lock_release, METH_NOARGS, RELEASE_DOC},
    {"release", Lock_release, METH_NOARGS, RELEASE_DOC},
    {"locked_lock", Lock_locked, METH_NOARGS, LOCKED_DOC},
    {"locked", Lock_locked, METH_NOARGS, LOCKED_DOC},
    {"__enter__", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(Lock_acquire)),
     METH_VARARGS | METH_KEYWORDS, ACQUIRE_DOC},
    {"__exit__", Lock_exit, METH_VARARGS, RELEASE_DOC},
    {"_at_fork_reinit", Lock_at_fork_reinit, METH_NOARGS, nullptr},
    {nullptr, nullptr, 0, nullptr},
};

PyMemberDef g_lock_members[] = {
    {"__weaklistoffset__", T_PYSSIZET, offsetof(CoopLock, weakrefs), READONLY, nullptr},
    {nullptr, 0, 0, 0, nullptr},
};

PyObject* allocate_lock(PyObject*, PyObject*) {
  CoopLock* self = PyObject_New(CoopLock, g_lock_type);
  if (!self) return nullptr;
  self->locked = false;
  self->waiters = nullptr;
  self->weakrefs = nullptr;
  return reinterpret_cast<PyObject*>(self);
}

PyMethodDef g_allocate_lock_def = {
    "allocate_lock", allocate_lock, METH_NOARGS,
    "allocate_lock() -> lock object\n(allocate() is an obsolete synonym)\n\n"
    "Create a new lock object. See help(type(threading.Lock())) for\ninformation about locks."};

}  // namespace

int add_coop_lock(PyObject* module) {
  PyType_Slot slots[] = {
      {Py_tp_dealloc, reinterpret_cast<void*>(Lock_dealloc)},
      {Py_tp_repr, reinterpret_cast<void*>(Lock_repr)},
      {Py_tp_methods, g_lock_methods},
      {Py_tp_members, g_lock_members},
      {Py_tp_doc, const_cast<char*>("A lock object is a synchronization primitive.  To create a lock,\n"
                                    "call threading.Lock().  Methods are:\n\n"
                                    "acquire() -- lock the lock, possibly blocking until it can be obtained\n"
                                    "release() -- unlock of the lock\n"
                                    "locked() -- test whether the lock is currently locked\n\n"
                                    "A lock is not owned by the thread that locked it; another thread may\n"
                                    "unlock it.  A thread attempting to lock a lock that it has already locked\n"
                                    "will block until another thread unlocks it.  Deadlocks may ensue.")},
      {0, nullptr},
  };
  // python3's type is "_thread.lock", not instantiable, immutable.
  PyType_Spec spec = {"_thread.lock", sizeof(CoopLock), 0,
                      Py_TPFLAGS_DEFAULT | Py_TPFLAGS_DISALLOW_INSTANTIATION | Py_TPFLAGS_IMMUTABLETYPE, slots};
  PyObject* type = PyType_FromSpec(&spec);
  if (!type) return -1;
  g_lock_type = reinterpret_cast<PyTypeObject*>(type);
  if (PyModule_AddObjectRef(module, "LockType", type) < 0) return -1;
  PyRef module_name = PyRef::steal(PyUnicode_FromString("_thread"));
  if (!module_name) return -1;
  PyRef factory = PyRef::steal(PyCFunction_NewEx(&g_allocate_lock_def, nullptr, module_name.get()));
  if (!factory) return -1;
  return PyModule_AddObjectRef(module, "allocate_lock", factory.get());
}

}  // namespace tf::core
