#include "core/thread/lock.hpp"
#include "core/thread/identity.hpp"

#include <pythread.h>
#include <structmember.h>

#include <deque>
#include <memory>

#include "core/task/green_hub.hpp"
#include "core/py_ref.hpp"

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

// A non-reentrant lock's state, shared by lock and RLock.
struct LockState {
  bool locked;
  std::deque<LockWaiter>* waiters;  // made on first contention
};

struct CoopLock {
  PyObject_HEAD
  LockState state;
  PyObject* weakrefs;
};

// python3's RLock: an inner lock plus the owner's ident and a count.
struct CoopRLock {
  PyObject_HEAD
  LockState state;
  unsigned long owner;
  unsigned long count;
  PyObject* weakrefs;
};

PyTypeObject* g_lock_type = nullptr;

LockState* state_of(PyObject* o) { return &reinterpret_cast<CoopLock*>(o)->state; }
CoopRLock* as_rlock(PyObject* o) { return reinterpret_cast<CoopRLock*>(o); }

}  // namespace

namespace {

// Wakes the first waiter that is still waiting; false when none is.
bool wake_one(LockState* self) {
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
    if (GreenHub::wake_threadsafe(w.hub_serial, w.name, Py_None)) return true;
  }
  return false;
}

// Removes our entry if a waker has not taken it; true if it was still there.
bool withdraw(LockState* self, const LockWaiter& me) {
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
  LockState* lock;
  LockWaiter* entry;
};

void enqueue_parked(void* ctx, uint64_t name) {
  auto* c = static_cast<ParkContext*>(ctx);
  c->entry->name = name;
  c->lock->waiters->push_back(*c->entry);
}

enum class LockWaitOutcome { kWoken, kTimedOut, kFailed };

// One wait in the queue: parked on the hub, or blocked on an OS lock.
LockWaitOutcome wait_once(LockState* self, LockWaiter* entry, _PyTime_t timeout) {
  if (GreenHub::cooperative_here()) {
    GreenHub* hub = GreenHub::current();
    entry->hub_serial = hub->serial();
    ParkContext ctx{self, entry};
    PyRef ignored;
    double seconds = timeout < 0 ? -1.0 : _PyTime_AsSecondsDouble(timeout);
    switch (hub->park(seconds, &ignored, enqueue_parked, &ctx)) {
      case WaitStatus::kReady:
        return LockWaitOutcome::kWoken;
      case WaitStatus::kTimedOut:
        return LockWaitOutcome::kTimedOut;
      case WaitStatus::kFailed:
        return LockWaitOutcome::kFailed;
    }
  }
  entry->real = std::make_shared<RealWait>();
  if (!entry->real->lock) {
    PyErr_SetString(PyExc_RuntimeError, "can't allocate lock");
    return LockWaitOutcome::kFailed;
  }
  PyThread_acquire_lock(entry->real->lock, 1);
  self->waiters->push_back(*entry);
  PY_TIMEOUT_T us = timeout < 0 ? -1 : _PyTime_AsMicroseconds(timeout, _PyTime_ROUND_TIMEOUT);
  PyLockStatus r;
  Py_BEGIN_ALLOW_THREADS
  r = PyThread_acquire_lock_timed(entry->real->lock, us, /*intr_flag=*/1);
  Py_END_ALLOW_THREADS
  if (r == PY_LOCK_INTR) return PyErr_CheckSignals() < 0 ? LockWaitOutcome::kFailed : LockWaitOutcome::kWoken;
  return r == PY_LOCK_ACQUIRED ? LockWaitOutcome::kWoken : LockWaitOutcome::kTimedOut;
}

// Waits for the lock; timeout < 0: no limit. -1 with an exception, else 0/1.
// `owner` is the Python object the state lives in.
int acquire_slow(PyObject* owner, LockState* self, _PyTime_t timeout) {
  _PyTime_t deadline = timeout < 0 ? -1 : _PyTime_GetMonotonicClock() + timeout;
  if (!self->waiters) self->waiters = new std::deque<LockWaiter>();
  Py_INCREF(owner);  // the lock outlives our wait even if its owner drops it
  int result;
  for (;;) {
    _PyTime_t left = deadline < 0 ? -1 : deadline - _PyTime_GetMonotonicClock();
    if (left < 0 && deadline >= 0) left = 0;
    LockWaiter entry;
    LockWaitOutcome outcome = wait_once(self, &entry, left);
    bool still_queued = withdraw(self, entry);
    if (outcome == LockWaitOutcome::kFailed) {
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
    if (outcome == LockWaitOutcome::kTimedOut || (deadline >= 0 && _PyTime_GetMonotonicClock() >= deadline)) {
      result = 0;
      break;
    }
    // Woken, but another caller took the lock first: wait again.
  }
  Py_DECREF(owner);
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

// 1 taken, 0 not (timeout), -1 exception.
int acquire_state(PyObject* owner, LockState* self, _PyTime_t timeout) {
  // A blocking acquire gives the others their turn now and then, as
  // python3's switch interval would: a fiber-thread that finds every
  // lock and queue item ready must not starve the rest.
  if (timeout != 0 && GreenHub::cooperative_here() && GreenHub::current()->yield_if_due() == WaitStatus::kFailed)
    return -1;
  if (!self->locked) {
    self->locked = true;
    return 1;
  }
  if (timeout == 0) return 0;
  return acquire_slow(owner, self, timeout);
}

void release_state(LockState* self) {
  self->locked = false;
  wake_one(self);
}

PyObject* Lock_acquire(PyObject* o, PyObject* args, PyObject* kwargs) {
  _PyTime_t timeout;
  if (!parse_acquire_args(args, kwargs, &timeout)) return nullptr;
  int r = acquire_state(o, state_of(o), timeout);
  return r < 0 ? nullptr : PyBool_FromLong(r);
}

PyObject* Lock_release(PyObject* o, PyObject*) {
  LockState* self = state_of(o);
  if (!self->locked) {
    PyErr_SetString(PyExc_RuntimeError, "release unlocked lock");
    return nullptr;
  }
  release_state(self);
  Py_RETURN_NONE;
}

PyObject* Lock_exit(PyObject* o, PyObject*) { return Lock_release(o, nullptr); }

PyObject* Lock_locked(PyObject* o, PyObject*) { return PyBool_FromLong(state_of(o)->locked); }

PyObject* Lock_at_fork_reinit(PyObject* o, PyObject*) {
  LockState* self = state_of(o);
  self->locked = false;
  if (self->waiters) self->waiters->clear();  // their greenlets and threads are the parent's
  Py_RETURN_NONE;
}

PyObject* Lock_repr(PyObject* o) {
  return PyUnicode_FromFormat("<%s %s object at %p>", state_of(o)->locked ? "locked" : "unlocked",
                              Py_TYPE(o)->tp_name, o);
}

void Lock_dealloc(PyObject* o) {
  CoopLock* self = reinterpret_cast<CoopLock*>(o);
  PyTypeObject* type = Py_TYPE(o);
  if (self->weakrefs) PyObject_ClearWeakRefs(o);
  delete self->state.waiters;
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
  self->state = LockState{false, nullptr};
  self->weakrefs = nullptr;
  return reinterpret_cast<PyObject*>(self);
}

PyMethodDef g_allocate_lock_def = {
    "allocate_lock", allocate_lock, METH_NOARGS,
    "allocate_lock() -> lock object\n(allocate() is an obsolete synonym)\n\n"
    "Create a new lock object. See help(type(threading.Lock())) for\ninformation about locks."};

// ---------------------------------------------------------------- RLock --

PyObject* RLock_new(PyTypeObject* type, PyObject*, PyObject*) {
  PyObject* o = type->tp_alloc(type, 0);
  if (!o) return nullptr;
  CoopRLock* self = as_rlock(o);
  self->state = LockState{false, nullptr};
  self->owner = 0;
  self->count = 0;
  self->weakrefs = nullptr;
  return o;
}

PyObject* RLock_acquire(PyObject* o, PyObject* args, PyObject* kwargs) {
  _PyTime_t timeout;
  if (!parse_acquire_args(args, kwargs, &timeout)) return nullptr;
  CoopRLock* self = as_rlock(o);
  unsigned long me = current_ident();
  if (self->count > 0 && self->owner == me) {
    if (self->count + 1 == 0) {
      PyErr_SetString(PyExc_OverflowError, "Internal lock count overflowed");
      return nullptr;
    }
    ++self->count;
    Py_RETURN_TRUE;
  }
  int r = acquire_state(o, &self->state, timeout);
  if (r < 0) return nullptr;
  if (r) {
    self->owner = me;
    self->count = 1;
  }
  return PyBool_FromLong(r);
}

PyObject* RLock_release(PyObject* o, PyObject*) {
  CoopRLock* self = as_rlock(o);
  if (self->count == 0 || self->owner != current_ident()) {
    PyErr_SetString(PyExc_RuntimeError, "cannot release un-acquired lock");
    return nullptr;
  }
  if (--self->count == 0) {
    self->owner = 0;
    release_state(&self->state);
  }
  Py_RETURN_NONE;
}

PyObject* RLock_exit(PyObject* o, PyObject*) { return RLock_release(o, nullptr); }

PyObject* RLock_release_save(PyObject* o, PyObject*) {
  CoopRLock* self = as_rlock(o);
  if (self->count == 0) {
    PyErr_SetString(PyExc_RuntimeError, "cannot release un-acquired lock");
    return nullptr;
  }
  unsigned long owner = self->owner, count = self->count;
  self->owner = 0;
  self->count = 0;
  release_state(&self->state);
  return Py_BuildValue("kk", count, owner);
}

PyObject* RLock_acquire_restore(PyObject* o, PyObject* args) {
  unsigned long owner, count;
  if (!PyArg_ParseTuple(args, "(kk):_acquire_restore", &count, &owner)) return nullptr;
  CoopRLock* self = as_rlock(o);
  if (acquire_state(o, &self->state, -1) < 0) return nullptr;
  self->owner = owner;
  self->count = count;
  Py_RETURN_NONE;
}

PyObject* RLock_recursion_count(PyObject* o, PyObject*) {
  CoopRLock* self = as_rlock(o);
  return PyLong_FromUnsignedLong(self->owner == current_ident() ? self->count : 0);
}

PyObject* RLock_is_owned(PyObject* o, PyObject*) {
  CoopRLock* self = as_rlock(o);
  return PyBool_FromLong(self->count > 0 && self->owner == current_ident());
}

PyObject* RLock_at_fork_reinit(PyObject* o, PyObject*) {
  CoopRLock* self = as_rlock(o);
  self->state.locked = false;
  if (self->state.waiters) self->state.waiters->clear();
  self->owner = 0;
  self->count = 0;
  Py_RETURN_NONE;
}

PyObject* RLock_repr(PyObject* o) {
  CoopRLock* self = as_rlock(o);
  return PyUnicode_FromFormat("<%s %s object owner=%lu count=%lu at %p>", self->count ? "locked" : "unlocked",
                              Py_TYPE(o)->tp_name, self->owner, self->count, o);
}

void RLock_dealloc(PyObject* o) {
  CoopRLock* self = as_rlock(o);
  PyTypeObject* type = Py_TYPE(o);
  if (self->weakrefs) PyObject_ClearWeakRefs(o);
  delete self->state.waiters;
  type->tp_free(o);
  Py_DECREF(type);
}

PyMethodDef g_rlock_methods[] = {
    {"acquire", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(RLock_acquire)),
     METH_VARARGS | METH_KEYWORDS,
     "acquire(blocking=True) -> bool\n\nLock the lock.  `blocking` indicates whether we should wait\n"
     "for the lock to be available or not.  If `blocking` is False\nand another thread holds the lock, "
     "the method will return False\nimmediately.  If `blocking` is True and another thread holds\n"
     "the lock, the method will wait for the lock to be released,\ntake it and then return True.\n"
     "(note: the blocking operation is interruptible.)\n\nIn all other cases, the method will return True\n"
     "immediately. Precisely, if the current thread already holds the lock,\nits internal counter is "
     "simply incremented. If nobody holds the lock,\nthe lock is taken and its internal counter "
     "initialized to 1."},
    {"release", RLock_release, METH_NOARGS,
     "release()\n\nRelease the lock, allowing another thread that is blocked waiting for\n"
     "the lock to acquire the lock.  The lock must be in the locked state,\nand must be locked by the "
     "same thread that unlocks it; otherwise a\n`RuntimeError` is raised.\n\nDo note that if the lock was "
     "acquire()d several times in a row by the\ncurrent thread, release() needs to be called as many "
     "times for the lock\nto be available for other threads."},
    {"_is_owned", RLock_is_owned, METH_NOARGS, "For internal use by `threading.Condition`."},
    {"_acquire_restore", RLock_acquire_restore, METH_VARARGS, "For internal use by `threading.Condition`."},
    {"_release_save", RLock_release_save, METH_NOARGS, "For internal use by `threading.Condition`."},
    {"_recursion_count", RLock_recursion_count, METH_NOARGS, "For internal use by reentrancy checks."},
    {"__enter__", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(RLock_acquire)),
     METH_VARARGS | METH_KEYWORDS, "Lock the lock."},
    {"__exit__", RLock_exit, METH_VARARGS, "Release the lock."},
    {"_at_fork_reinit", RLock_at_fork_reinit, METH_NOARGS, nullptr},
    {nullptr, nullptr, 0, nullptr},
};

PyMemberDef g_rlock_members[] = {
    {"__weaklistoffset__", T_PYSSIZET, offsetof(CoopRLock, weakrefs), READONLY, nullptr},
    {nullptr, 0, 0, 0, nullptr},
};

}  // namespace

PyRef new_thread_lock() { return PyRef::steal(allocate_lock(nullptr, nullptr)); }

void release_thread_lock_if_held(PyObject* lock) {
  if (Py_TYPE(lock) == g_lock_type) {
    if (state_of(lock)->locked) release_state(state_of(lock));
    return;
  }
  PyRef locked = PyRef::steal(PyObject_CallMethod(lock, "locked", nullptr));
  int held = locked ? PyObject_IsTrue(locked.get()) : -1;
  PyRef released = held == 1 ? PyRef::steal(PyObject_CallMethod(lock, "release", nullptr)) : PyRef::borrow(Py_None);
  if (held < 0 || !released) PyErr_WriteUnraisable(lock);
}

int add_thread_lock(PyObject* module) {
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
  if (PyModule_AddObjectRef(module, "allocate_lock", factory.get()) < 0) return -1;

  PyType_Slot rlock_slots[] = {
      {Py_tp_new, reinterpret_cast<void*>(RLock_new)},
      {Py_tp_dealloc, reinterpret_cast<void*>(RLock_dealloc)},
      {Py_tp_repr, reinterpret_cast<void*>(RLock_repr)},
      {Py_tp_methods, g_rlock_methods},
      {Py_tp_members, g_rlock_members},
      {0, nullptr},
  };
  PyType_Spec rlock_spec = {"_thread.RLock", sizeof(CoopRLock), 0, Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
                            rlock_slots};
  PyObject* rlock_type = PyType_FromSpec(&rlock_spec);
  if (!rlock_type) return -1;
  if (PyModule_AddObjectRef(module, "RLock", rlock_type) < 0) return -1;
  return 0;
}

}  // namespace tf::core
