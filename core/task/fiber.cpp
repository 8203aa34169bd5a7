#include "core/task/fiber.hpp"
#include "core/recursion_depth.hpp"

#include <structmember.h>

#include <cstdlib>
#include <utility>

#include "core/task/green_hub.hpp"
#include "core/task/greenlet_api.hpp"
#include "core/py_ref.hpp"
#include "core/thread/local.hpp"
#include "hub/shared_stack.hpp"

namespace tf::core::fiber {
namespace {

int clear(PyObject* self) {
  ThreadFiber* f = as(self);
  Py_CLEAR(f->function);
  Py_CLEAR(f->args);
  Py_CLEAR(f->kwargs);
  Py_CLEAR(f->sentinel);
  return 0;
}

void dealloc(PyObject* self) {
  ThreadFiber* f = as(self);
  if (f->weakrefs) PyObject_ClearWeakRefs(self);
  clear(self);
  // A parked fiber is only let go when its hub forgets it (a forked child):
  // its frames' references stay where they are, as a dead thread's would.
  release_saved(f);
  release_thread_dict(std::exchange(f->thread_dict, nullptr));
  if (RareThreadState* rare = std::exchange(f->rare, nullptr)) {
    Py_XDECREF(rare->c_profileobj);
    Py_XDECREF(rare->c_traceobj);
    Py_XDECREF(rare->async_gen_firstiter);
    Py_XDECREF(rare->async_gen_finalizer);
    delete rare;
  }
  Py_TYPE(self)->tp_free(self);
}

PyObject* get_dead(PyObject* self, void*) { return PyBool_FromLong(is_dead(self)); }

PyObject* get_saved_bytes(PyObject* self, void*) {
  return PyLong_FromUnsignedLong(as(self)->state == State::kParked ? as(self)->saved_size : 0);
}

PyObject* repr(PyObject* self) {
  static const char* const kStates[] = {"new", "running", "parked", "dead"};
  return PyUnicode_FromFormat("<%s object at %p (%s)>", Py_TYPE(self)->tp_name, self,
                              kStates[static_cast<int>(as(self)->state)]);
}

PyGetSetDef g_getset[] = {
    {"dead", get_dead, nullptr, "True once the thread has ended.", nullptr},
    {"saved_bytes", get_saved_bytes, nullptr, "Bytes of C stack kept while parked (0 otherwise).", nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr}};

PyMemberDef g_members[] = {
    {"__weaklistoffset__", T_PYSSIZET, offsetof(ThreadFiber, weakrefs), READONLY, nullptr},
    {nullptr, 0, 0, 0, nullptr}};

PyType_Slot g_slots[] = {
    {Py_tp_members, g_members},
    {Py_tp_dealloc, reinterpret_cast<void*>(dealloc)},
    {Py_tp_getset, g_getset},
    {Py_tp_repr, reinterpret_cast<void*>(repr)},
    {Py_tp_doc, const_cast<char*>("A thread started inside the hub: its identity and its parked frames.")},
    {0, nullptr}};

PyTypeObject* g_type = nullptr;

}  // namespace

int add_type(PyObject* module) {
  if (!g_type) {
    // Not a container for the cycle collector: while a fiber lives the hub
    // holds it (ready queue, waiter, or running), so it cannot be garbage,
    // and what it runs is dropped at its end; 100k parked threads are not
    // walked by every collection, and each is 16 bytes smaller.
    PyType_Spec spec = {"_framework_core.ThreadFiber", sizeof(ThreadFiber), 0, Py_TPFLAGS_DEFAULT, g_slots};
    g_type = reinterpret_cast<PyTypeObject*>(PyType_FromSpec(&spec));
    if (!g_type) return -1;
  }
  return PyModule_AddObjectRef(module, "ThreadFiber", reinterpret_cast<PyObject*>(g_type));
}

bool check(PyObject* o) { return g_type && Py_TYPE(o) == g_type; }

void release_saved(ThreadFiber* f) {
  if (f->saved) hub::SharedStack::note_released(f->saved_size);
  std::free(f->saved);
  f->saved = nullptr;
  f->saved_size = 0;
}

PyObject* create(PyObject* function, PyObject* args, PyObject* kwargs) {
  ThreadFiber* f = PyObject_New(ThreadFiber, g_type);
  if (!f) return nullptr;
  f->function = Py_NewRef(function);
  f->args = Py_NewRef(args);
  f->kwargs = Py_XNewRef(kwargs);
  f->sentinel = nullptr;
  f->weakrefs = nullptr;
  f->saved = nullptr;
  f->saved_size = 0;
  f->waiter = 0;
  f->state = State::kNew;
  // Above any id CPython gives a thread state (a counter from 1), and never
  // reused: asyncio caches the running loop's holder by this id.
  static uint64_t next_thread_id = uint64_t{1} << 62;
  f->thread_id = ++next_thread_id;
  f->thread_dict = nullptr;
  f->rare = nullptr;
  return reinterpret_cast<PyObject*>(f);
}

namespace {

bool has_rare_state(const PyThreadState* ts) {
  return ts->c_profilefunc || ts->c_tracefunc || ts->c_profileobj || ts->c_traceobj || ts->tracing ||
         ts->coroutine_origin_tracking_depth || ts->async_gen_firstiter || ts->async_gen_finalizer;
}

void swap_rare_state(PyThreadState* ts, RareThreadState* r) {
  std::swap(ts->c_profilefunc, r->c_profilefunc);
  std::swap(ts->c_tracefunc, r->c_tracefunc);
  std::swap(ts->c_profileobj, r->c_profileobj);
  std::swap(ts->c_traceobj, r->c_traceobj);
  std::swap(ts->tracing, r->tracing);
  std::swap(ts->tracing_what, r->tracing_what);
  std::swap(ts->coroutine_origin_tracking_depth, r->coroutine_origin_tracking_depth);
  std::swap(ts->async_gen_firstiter, r->async_gen_firstiter);
  std::swap(ts->async_gen_finalizer, r->async_gen_finalizer);
}

}  // namespace

void swap_thread_state(PyThreadState* ts, ThreadFiber* f) {
  std::swap(ts->id, f->thread_id);
  std::swap(ts->dict, f->thread_dict);
  if (!f->rare && !has_rare_state(ts)) return;  // the usual case: nothing set on either side
  if (!f->rare) f->rare = new RareThreadState();
  swap_rare_state(ts, f->rare);
}

void clear_thread_own_state(PyThreadState* ts) {
  // Each step may run Python code (finalizers); what it leaves is cleared
  // by the next fiber-end or the fiber's dealloc.
  release_thread_dict(std::exchange(ts->dict, nullptr));
  if (ts->c_profilefunc || ts->c_profileobj) PyEval_SetProfile(nullptr, nullptr);
  if (ts->c_tracefunc || ts->c_traceobj) PyEval_SetTrace(nullptr, nullptr);
  Py_CLEAR(ts->async_gen_firstiter);
  Py_CLEAR(ts->async_gen_finalizer);
  ts->coroutine_origin_tracking_depth = 0;
}

namespace {

PyObject* g_original_switch = nullptr;  // greenlet's method descriptors
PyObject* g_original_throw = nullptr;

PyObject* from_fiber_or_original(PyObject* original, PyObject* self, PyObject* args, PyObject* kwargs) {
  GreenHub* hub = GreenHub::current();
  if (hub && self != hub->hub_greenlet() && hub->fiber_here())
    return hub->call_greenlet_for_fiber(original, self, args, kwargs);
  return call_original(original, self, args, kwargs);
}

// greenlet's own conventions (switch: *args and **kwargs; throw: *args
// only), so that bad arguments get greenlet's own errors.
PyObject* fiber_aware_switch(PyObject* self, PyObject* args, PyObject* kwargs) {
  return from_fiber_or_original(g_original_switch, self, args, kwargs);
}

PyObject* fiber_aware_throw(PyObject* self, PyObject* args) {
  return from_fiber_or_original(g_original_throw, self, args, nullptr);
}

PyMethodDef g_switch_def = {"switch", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(fiber_aware_switch)),
                            METH_VARARGS | METH_KEYWORDS, nullptr};
PyMethodDef g_throw_def = {"throw", fiber_aware_throw, METH_VARARGS, nullptr};

bool replace_method(PyTypeObject* type, PyMethodDef* def, PyObject** original) {
  PyObject* found = PyDict_GetItemString(type->tp_dict, def->ml_name);  // borrowed
  if (!found || Py_TYPE(found) != &PyMethodDescr_Type ||
      reinterpret_cast<PyMethodDescrObject*>(found)->d_method->ml_flags != def->ml_flags) {
    PyErr_Format(PyExc_RuntimeError, "greenlet.%s is not the method tfpython expects", def->ml_name);
    return false;
  }
  def->ml_doc = reinterpret_cast<PyMethodDescrObject*>(found)->d_method->ml_doc;  // greenlet's own help
  PyRef ours = PyRef::steal(PyDescr_NewMethod(type, def));
  if (!ours) return false;
  *original = Py_NewRef(found);
  return PyDict_SetItemString(type->tp_dict, def->ml_name, ours.get()) == 0;
}

}  // namespace

bool install_greenlet_methods() {
  if (g_original_switch) return true;
  if (!greenlet::import_api()) return false;
  PyTypeObject* type = greenlet::greenlet_type();
  if (!replace_method(type, &g_switch_def, &g_original_switch) ||
      !replace_method(type, &g_throw_def, &g_original_throw))
    return false;
  PyType_Modified(type);
  return true;
}

PyObject* call_original(PyObject* method, PyObject* target, PyObject* args, PyObject* kwargs) {
  // Only the two conventions replace_method() accepted.
  PyMethodDef* def = reinterpret_cast<PyMethodDescrObject*>(method)->d_method;
  if (def->ml_flags & METH_KEYWORDS)
    return reinterpret_cast<PyCFunctionWithKeywords>(reinterpret_cast<void (*)()>(def->ml_meth))(target, args, kwargs);
  return def->ml_meth(target, args);
}

PyStateSnapshot::PyStateSnapshot(PyThreadState* ts)
    : cframe_(ts->cframe),
      datastack_chunk_(ts->datastack_chunk),
      datastack_top_(ts->datastack_top),
      exc_info_(ts->exc_info),
      exc_value_(ts->exc_state.exc_value),
      context_(ts->context),
      recursion_depth_(recursion::depth(ts)),
      trash_delete_nesting_(ts->trash_delete_nesting),
      use_tracing_(ts->cframe->use_tracing) {
  ts->context = nullptr;  // the reference is ours until restore()
}

void PyStateSnapshot::restore(PyThreadState* ts) {
  ts->cframe = cframe_;
  ts->cframe->use_tracing = use_tracing_;
  ts->datastack_chunk = datastack_chunk_;
  ts->datastack_top = datastack_top_;
  ts->datastack_limit = datastack_chunk_ ? reinterpret_cast<PyObject**>(
                                              reinterpret_cast<char*>(datastack_chunk_) + datastack_chunk_->size)
                                        : nullptr;
  ts->exc_state.exc_value = exc_value_;
  ts->exc_state.previous_item = nullptr;
  ts->exc_info = exc_info_;
  Py_XSETREF(ts->context, context_);
  ts->context_ver++;
  recursion::set_depth(ts, recursion_depth_);
  ts->trash_delete_nesting = trash_delete_nesting_;
}

void begin_thread_state(PyThreadState* ts, _PyCFrame* root) {
  *root = *ts->cframe;
  // A new thread traces only once it asks to (threading.settrace's hook
  // does, in Thread._bootstrap_inner): swap_thread_state gave it none.
  root->use_tracing = 0;
  root->previous = &ts->root_cframe;
  root->current_frame = nullptr;
  ts->cframe = root;
  ts->datastack_chunk = nullptr;
  ts->datastack_top = nullptr;
  ts->datastack_limit = nullptr;
  ts->exc_state.exc_value = nullptr;
  ts->exc_state.previous_item = nullptr;
  ts->exc_info = &ts->exc_state;
  ts->context = nullptr;
  ts->context_ver++;
  ts->trash_delete_nesting = 0;
  // python3 enters a thread's function through one C call (t_bootstrap's),
  // which counts against the recursion limit.
  recursion::set_depth(ts, recursion::depth(ts) + 1);
}

void end_thread_state(PyThreadState* ts) {
  // As greenlet does for a finished greenlet: the chunks go back through
  // the arena allocator (stack_chunks tells its root chunks by their size).
  PyObjectArenaAllocator alloc;
  PyObject_GetArenaAllocator(&alloc);
  for (_PyStackChunk* chunk = ts->datastack_chunk; chunk;) {
    _PyStackChunk* previous = chunk->previous;
    chunk->previous = nullptr;
    if (alloc.free) alloc.free(alloc.ctx, chunk, chunk->size);
    chunk = previous;
  }
  ts->datastack_chunk = nullptr;
  ts->datastack_top = nullptr;
  ts->datastack_limit = nullptr;
  Py_CLEAR(ts->exc_state.exc_value);
  Py_CLEAR(ts->context);
}

}  // namespace tf::core::fiber
