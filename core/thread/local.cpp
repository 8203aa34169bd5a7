#include "core/thread/local.hpp"

#include <structmember.h>

#include <cstdint>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/thread/identity.hpp"
#include "core/thread/lock.hpp"
#include "core/task/fiber.hpp"
#include "core/task/green_hub.hpp"
#include "core/task/greenlet_api.hpp"
#include "core/py_ref.hpp"

namespace tf::core {
namespace {

// ---------------------------------------------------------------- dummy --
// One per (local, thread), held only by the thread's dict.
struct LocalDummy {
  PyObject_HEAD
  PyObject* localdict;  // borrowed: the local's dummies dict owns it; null once the local died
  PyObject* holder;     // borrowed: the dict of ours that holds this dummy; null for an OS thread state's
  PyObject* weakrefs;
};

PyTypeObject* g_dummy_type = nullptr;
PyTypeObject* g_local_type = nullptr;

LocalDummy* as_dummy(PyObject* o) { return reinterpret_cast<LocalDummy*>(o); }

void dummy_dealloc(PyObject* self) {
  if (as_dummy(self)->weakrefs) PyObject_ClearWeakRefs(self);
  PyTypeObject* type = Py_TYPE(self);
  type->tp_free(self);
  Py_DECREF(type);
}

// ------------------------------------------------------- greenlet dicts --
// A spawned greenlet is a thread of its own (get_ident() is its id()); its
// thread dict lives here until the greenlet object goes.
struct GreenletDict {
  PyObject* dict;     // owned
  PyObject* weakref;  // owned: to the greenlet, whose callback drops the entry
};
auto* g_greenlet_dicts = new std::unordered_map<PyObject*, GreenletDict>();  // never freed: used until exit

PyObject* greenlet_gone(PyObject* address, PyObject* weakref) {
  auto it = g_greenlet_dicts->find(static_cast<PyObject*>(PyLong_AsVoidPtr(address)));
  if (it != g_greenlet_dicts->end() && it->second.weakref == weakref) {
    GreenletDict entry = it->second;
    g_greenlet_dicts->erase(it);
    release_thread_dict(entry.dict);
    Py_DECREF(entry.weakref);
  }
  Py_RETURN_NONE;
}

PyMethodDef g_greenlet_gone_def = {"_greenlet_thread_ended", greenlet_gone, METH_O, nullptr};

PyObject* greenlet_dict(PyObject* greenlet) {  // borrowed
  auto it = g_greenlet_dicts->find(greenlet);
  if (it != g_greenlet_dicts->end()) return it->second.dict;
  PyRef address = PyRef::steal(PyLong_FromVoidPtr(greenlet));
  if (!address) return nullptr;
  PyRef callback = PyRef::steal(PyCFunction_NewEx(&g_greenlet_gone_def, address.get(), nullptr));
  if (!callback) return nullptr;
  PyRef weakref = PyRef::steal(PyWeakref_NewRef(greenlet, callback.get()));
  PyRef dict = PyRef::steal(PyDict_New());
  if (!weakref || !dict) return nullptr;
  PyObject* borrowed = dict.get();
  (*g_greenlet_dicts)[greenlet] = GreenletDict{dict.release(), weakref.release()};
  return borrowed;
}

// The current thread's dict (borrowed); *holder is that dict when it is
// one of ours (a fiber's, a greenlet's), null for an OS thread state's.
PyObject* current_thread_dict(PyObject** holder) {
  *holder = nullptr;
  PyRef thread = current_thread_greenlet();
  bool fiber_thread = thread && fiber::check(thread.get());
  if (thread && !fiber_thread && thread.get() != main_thread_greenlet() && greenlet::has_parent(thread.get())) {
    PyObject* dict = greenlet_dict(thread.get());
    *holder = dict;
    return dict;
  }
  PyObject* dict = PyThreadState_GetDict();
  if (!dict) {
    if (!PyErr_Occurred()) PyErr_SetString(PyExc_SystemError, "Couldn't get thread-state dictionary");
    return nullptr;
  }
  if (fiber_thread) *holder = dict;
  return dict;
}

// ---------------------------------------------------------------- local --
struct Local {
  PyObject_HEAD
  PyObject* key;  // this local's dummy in a thread dict
  PyObject* args;
  PyObject* kw;
  PyObject* weakrefs;
  PyObject* dummies;      // {weakref to dummy: local dict}
  PyObject* wr_callback;  // for the dummies' weak references; holds the local weakly
};

Local* as_local(PyObject* o) { return reinterpret_cast<Local*>(o); }

// A dummy for the current thread; its local dict (borrowed).
PyObject* create_dummy(Local* self, PyObject* thread_dict, PyObject* holder) {
  PyRef ldict = PyRef::steal(PyDict_New());
  if (!ldict) return nullptr;
  PyRef dummy = PyRef::steal(g_dummy_type->tp_alloc(g_dummy_type, 0));
  if (!dummy) return nullptr;
  as_dummy(dummy.get())->localdict = ldict.get();
  as_dummy(dummy.get())->holder = holder;
  PyRef weakref = PyRef::steal(PyWeakref_NewRef(dummy.get(), self->wr_callback));
  if (!weakref) return nullptr;
  if (PyDict_SetItem(self->dummies, weakref.get(), ldict.get()) < 0) return nullptr;
  if (PyDict_SetItem(thread_dict, self->key, dummy.get()) < 0) return nullptr;
  return ldict.get();  // kept alive by self->dummies
}

// The current thread's local dict (borrowed), made (and __init__ run) on
// the thread's first use.
PyObject* local_dict(Local* self) {
  PyObject* holder;
  PyObject* thread_dict = current_thread_dict(&holder);
  if (!thread_dict) return nullptr;
  PyObject* dummy = PyDict_GetItemWithError(thread_dict, self->key);
  if (dummy && as_dummy(dummy)->localdict) return as_dummy(dummy)->localdict;
  if (PyErr_Occurred()) return nullptr;
  PyRef keep_self = PyRef::borrow(reinterpret_cast<PyObject*>(self));
  PyObject* ldict = create_dummy(self, thread_dict, holder);
  if (!ldict) return nullptr;
  initproc init = Py_TYPE(self)->tp_init;
  if (init != PyBaseObject_Type.tp_init && init(reinterpret_cast<PyObject*>(self), self->args, self->kw) < 0) {
    // Made again, and __init__ run again, at the next access.
    SavedError error = SavedError::fetch();
    if (PyDict_DelItem(thread_dict, self->key) < 0) PyErr_Clear();
    error.restore();
    return nullptr;
  }
  return ldict;
}

PyObject* dummy_destroyed(PyObject* local_weakref, PyObject* dummy_weakref) {
  PyObject* obj = PyWeakref_GET_OBJECT(local_weakref);
  if (obj == Py_None) Py_RETURN_NONE;
  PyRef self = PyRef::borrow(obj);
  if (PyObject* dummies = as_local(obj)->dummies) {
    if (PyDict_Contains(dummies, dummy_weakref) > 0) PyDict_DelItem(dummies, dummy_weakref);
    if (PyErr_Occurred()) PyErr_WriteUnraisable(obj);
  }
  Py_RETURN_NONE;
}

PyMethodDef g_dummy_destroyed_def = {"_localdummy_destroyed", dummy_destroyed, METH_O, nullptr};

PyObject* local_new(PyTypeObject* type, PyObject* args, PyObject* kw) {
  if (type->tp_init == PyBaseObject_Type.tp_init) {
    int given = args ? PyObject_IsTrue(args) : 0;
    if (given == 0 && kw) given = PyObject_IsTrue(kw);
    if (given != 0) {
      if (given > 0) PyErr_SetString(PyExc_TypeError, "Initialization arguments are not supported");
      return nullptr;
    }
  }
  PyRef self = PyRef::steal(type->tp_alloc(type, 0));
  if (!self) return nullptr;
  Local* local = as_local(self.get());
  local->args = Py_XNewRef(args);
  local->kw = Py_XNewRef(kw);
  // Never reused (unlike an address): a dummy a dead local left in some
  // thread's dict can never be taken for a new local's.
  static unsigned long long next_key = 0;
  local->key = PyUnicode_FromFormat("_thread._local.%llu", ++next_key);
  local->dummies = PyDict_New();
  if (!local->key || !local->dummies) return nullptr;
  PyRef weak_self = PyRef::steal(PyWeakref_NewRef(self.get(), nullptr));
  if (!weak_self) return nullptr;
  local->wr_callback = PyCFunction_NewEx(&g_dummy_destroyed_def, weak_self.get(), nullptr);
  if (!local->wr_callback) return nullptr;
  PyObject* holder;
  PyObject* thread_dict = current_thread_dict(&holder);
  if (!thread_dict || !create_dummy(local, thread_dict, holder)) return nullptr;
  return self.release();
}

int local_traverse(PyObject* self, visitproc visit, void* arg) {
  Py_VISIT(Py_TYPE(self));
  Py_VISIT(as_local(self)->args);
  Py_VISIT(as_local(self)->kw);
  Py_VISIT(as_local(self)->dummies);
  return 0;
}

void pop_key(PyObject* dict, PyObject* key) {
  if (!dict) return;
  int has = PyDict_Contains(dict, key);
  if (has > 0) has = PyDict_DelItem(dict, key);
  if (has < 0) PyErr_Clear();
}

// Every dummy of a dead local leaves its thread's dict, as python3 removes
// them from every thread state: ours through the dummy's holder, the OS
// thread states' by walking them (one of which may be parked in the
// running fiber while it runs).
void remove_dummies(Local* self, PyObject* dummies) {
  std::vector<PyRef> alive;
  Py_ssize_t pos = 0;
  PyObject *weakref, *ldict;
  while (PyDict_Next(dummies, &pos, &weakref, &ldict)) {
    PyObject* dummy = PyWeakref_GET_OBJECT(weakref);
    if (dummy != Py_None) alive.push_back(PyRef::borrow(dummy));
  }
  bool in_os_thread_states = false;
  for (PyRef& dummy : alive) {
    as_dummy(dummy.get())->localdict = nullptr;  // its dict goes with `dummies`
    if (PyObject* holder = as_dummy(dummy.get())->holder)
      pop_key(holder, self->key);
    else
      in_os_thread_states = true;
  }
  if (!in_os_thread_states) return;
  PyInterpreterState* interp = PyInterpreterState_Get();
  for (PyThreadState* ts = PyInterpreterState_ThreadHead(interp); ts; ts = PyThreadState_Next(ts))
    pop_key(ts->dict, self->key);
  if (GreenHub* hub = GreenHub::current()) {
    if (PyObject* fiber = hub->fiber_here()) pop_key(fiber::as(fiber)->thread_dict, self->key);
  }
}

int local_clear(PyObject* obj) {
  Local* self = as_local(obj);
  Py_CLEAR(self->args);
  Py_CLEAR(self->kw);
  Py_CLEAR(self->wr_callback);
  PyRef dummies = PyRef::steal(std::exchange(self->dummies, nullptr));
  if (dummies && self->key) {
    SavedError error = SavedError::fetch();
    remove_dummies(self, dummies.get());
    error.restore();
  }
  return 0;
}

void local_dealloc(PyObject* self) {
  if (as_local(self)->weakrefs) PyObject_ClearWeakRefs(self);
  PyObject_GC_UnTrack(self);
  local_clear(self);
  Py_CLEAR(as_local(self)->key);
  PyTypeObject* type = Py_TYPE(self);
  type->tp_free(self);
  Py_DECREF(type);
}

bool is_dict_name(PyObject* name, int* error) {
  static PyObject* const dict_name = PyUnicode_InternFromString("__dict__");
  int r = PyObject_RichCompareBool(name, dict_name, Py_EQ);
  *error = r < 0;
  return r > 0;
}

PyObject* local_getattro(PyObject* self, PyObject* name) {
  PyObject* ldict = local_dict(as_local(self));
  if (!ldict) return nullptr;
  int error;
  if (is_dict_name(name, &error)) return Py_NewRef(ldict);
  if (error) return nullptr;
  if (Py_IS_TYPE(self, g_local_type)) {  // no class attributes to consider first
    if (PyObject* value = PyDict_GetItemWithError(ldict, name)) return Py_NewRef(value);
    if (PyErr_Occurred()) return nullptr;
  }
  return _PyObject_GenericGetAttrWithDict(self, name, ldict, 0);
}

int local_setattro(PyObject* self, PyObject* name, PyObject* value) {
  PyObject* ldict = local_dict(as_local(self));
  if (!ldict) return -1;
  int error;
  if (is_dict_name(name, &error)) {
    PyErr_Format(PyExc_AttributeError, "'%.100s' object attribute '%U' is read-only", Py_TYPE(self)->tp_name, name);
    return -1;
  }
  if (error) return -1;
  return _PyObject_GenericSetAttrWithDict(self, name, value, ldict);
}

PyMemberDef g_dummy_members[] = {
    {"__weaklistoffset__", T_PYSSIZET, offsetof(LocalDummy, weakrefs), READONLY, nullptr},
    {nullptr, 0, 0, 0, nullptr}};

PyMemberDef g_local_members[] = {
    {"__weaklistoffset__", T_PYSSIZET, offsetof(Local, weakrefs), READONLY, nullptr},
    {nullptr, 0, 0, 0, nullptr}};

}  // namespace

void release_thread_dict(PyObject* dict) {
  if (!dict) return;
  if (g_dummy_type) {
    Py_ssize_t pos = 0;
    PyObject *key, *value;
    while (PyDict_Next(dict, &pos, &key, &value))
      if (Py_IS_TYPE(value, g_dummy_type)) as_dummy(value)->holder = nullptr;
  }
  Py_DECREF(dict);
}

int add_thread_local(PyObject* module) {
  if (!g_local_type) {
    PyType_Slot dummy_slots[] = {{Py_tp_dealloc, reinterpret_cast<void*>(dummy_dealloc)},
                                 {Py_tp_doc, const_cast<char*>("Thread-local dummy")},
                                 {Py_tp_members, g_dummy_members},
                                 {0, nullptr}};
    PyType_Spec dummy_spec = {"_thread._localdummy", sizeof(LocalDummy), 0,
                              Py_TPFLAGS_DEFAULT | Py_TPFLAGS_DISALLOW_INSTANTIATION | Py_TPFLAGS_IMMUTABLETYPE,
                              dummy_slots};
    g_dummy_type = reinterpret_cast<PyTypeObject*>(PyType_FromSpec(&dummy_spec));
    if (!g_dummy_type) return -1;
    PyType_Slot local_slots[] = {{Py_tp_dealloc, reinterpret_cast<void*>(local_dealloc)},
                                 {Py_tp_getattro, reinterpret_cast<void*>(local_getattro)},
                                 {Py_tp_setattro, reinterpret_cast<void*>(local_setattro)},
                                 {Py_tp_doc, const_cast<char*>("Thread-local data")},
                                 {Py_tp_traverse, reinterpret_cast<void*>(local_traverse)},
                                 {Py_tp_clear, reinterpret_cast<void*>(local_clear)},
                                 {Py_tp_new, reinterpret_cast<void*>(local_new)},
                                 {Py_tp_members, g_local_members},
                                 {0, nullptr}};
    PyType_Spec local_spec = {"_thread._local", sizeof(Local), 0,
                              Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC |
                                  Py_TPFLAGS_IMMUTABLETYPE,
                              local_slots};
    g_local_type = reinterpret_cast<PyTypeObject*>(PyType_FromSpec(&local_spec));
    if (!g_local_type) return -1;
  }
  return PyModule_AddObjectRef(module, "local", reinterpret_cast<PyObject*>(g_local_type));
}

}  // namespace tf::core
