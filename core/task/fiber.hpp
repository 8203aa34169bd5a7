// Fiber-threads: what a started _thread/threading thread runs on inside the
// hub. A fiber is not a greenlet: it takes turns with the others on the
// hub's SharedStack (hub/shared_stack.hpp), switched to and from by the hub
// alone, and carries only what a parked thread must keep: the bytes of its
// frames, and the Python thread state a switch moves (PyStateSnapshot, kept
// in those same bytes), plus what CPython keeps per thread state and a
// thread owns (ThreadOwnState). Its object is the thread's identity
// (get_ident() is its id()).
#pragma once

#include <Python.h>

#include <cstdint>

#include "hub/shared_stack.hpp"

namespace tf::core::fiber {

enum class State : uint8_t { kNew, kRunning, kParked, kDead };

// The rarely set parts of a thread's own state: sys.settrace/setprofile,
// sys.set_asyncgen_hooks, sys.set_coroutine_origin_tracking_depth. Kept
// apart (and made only when one is set) so a plain fiber stays small.
struct RareThreadState {
  Py_tracefunc c_profilefunc = nullptr;
  Py_tracefunc c_tracefunc = nullptr;
  PyObject* c_profileobj = nullptr;  // owned, as in the thread state
  PyObject* c_traceobj = nullptr;
  int tracing = 0;
  int tracing_what = 0;
  int coroutine_origin_tracking_depth = 0;
  PyObject* async_gen_firstiter = nullptr;
  PyObject* async_gen_finalizer = nullptr;
};

struct ThreadFiber {
  PyObject_HEAD
  // What the thread runs, and the sentinel lock(s) its end releases.
  PyObject* function;
  PyObject* args;
  PyObject* kwargs;
  PyObject* sentinel;
  PyObject* weakrefs;
  char* saved;          // its frames' copy while parked (kept while it runs, for the next park)
  uint64_t waiter;      // the waiter it parked on (valid while kParked)
  uint32_t saved_size;
  State state;
  // What the thread state holds per thread (swap_thread_state): while the
  // fiber is parked, its own; while it runs, the hub's (the OS thread's).
  uint64_t thread_id;         // PyThreadState.id: caches key on it (asyncio's running loop)
  PyObject* thread_dict;      // PyThreadState.dict (owned; may be null)
  RareThreadState* rare;      // the rest; null while both sides have none set
};

int add_type(PyObject* module);
bool check(PyObject* o);
inline ThreadFiber* as(PyObject* o) { return reinterpret_cast<ThreadFiber*>(o); }
// A new fiber that will call function(*args, **kwargs); kwargs may be null.
PyObject* create(PyObject* function, PyObject* args, PyObject* kwargs);
inline bool is_dead(PyObject* o) { return as(o)->state == State::kDead; }
void release_saved(ThreadFiber* f);

// Exchanges what the thread state holds per thread with what `f` keeps:
// the hub calls it before starting or resuming `f` and again once `f` has
// parked or ended, so that every fiber-thread has its own
// PyThreadState_GetDict() (asyncio's running loop, threading.local, repr's
// recursion guard), its own id, trace and profile functions, async
// generator hooks and coroutine origin tracking, as a thread has.
void swap_thread_state(PyThreadState* ts, ThreadFiber* f);
// In a fiber at its end, before its sentinel is released: its dict, trace
// functions and hooks go, as PyThreadState_Clear does for a thread.
void clear_thread_own_state(PyThreadState* ts);

// The Python thread state a switch between the hub and a fiber must carry
// (what greenlet keeps per greenlet): taken from the thread state by the
// side that switches away, on its own stack, and put back when it runs
// again. The context reference moves into the snapshot and back.
class PyStateSnapshot {
 public:
  explicit PyStateSnapshot(PyThreadState* ts);
  void restore(PyThreadState* ts);

 private:
  _PyCFrame* cframe_;
  _PyStackChunk* datastack_chunk_;
  PyObject** datastack_top_;  // (the limit follows from the chunk)
  _PyErr_StackItem* exc_info_;
  PyObject* exc_value_;  // of tstate->exc_state, the chain's base (no previous item)
  PyObject* context_;
  int recursion_depth_;
  int trash_delete_nesting_;
  uint8_t use_tracing_;
};

// greenlet.switch() and greenlet.throw() called from a fiber: the fiber runs
// on the hub greenlet's stack, so greenlet would switch away from the hub
// greenlet, and a wait in the greenlet switched to would come back into the
// fiber, not the hub. Replaced once (idempotent) on greenlet's type by
// methods that, in a fiber, park it and have the hub make the call from its
// own greenlet (GreenHub::call_greenlet_for_fiber); anywhere else they are
// greenlet's own.
bool install_greenlet_methods();
// greenlet's original method (switch or throw) called as `method(target,
// *args, **kwargs)`.
PyObject* call_original(PyObject* method, PyObject* target, PyObject* args, PyObject* kwargs);

// In a new fiber, before any Python code: a thread's fresh state (no frames,
// no exception being handled, an empty context), at the hub's recursion
// depth. `root` lives in the fiber's bottom frame.
void begin_thread_state(PyThreadState* ts, _PyCFrame* root);
// At a fiber's end: its frame-stack chunks and context go.
void end_thread_state(PyThreadState* ts);

}  // namespace tf::core::fiber
