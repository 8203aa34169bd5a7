#include "accel/python/stand_in.hpp"

#include <structmember.h>

#include <cstddef>

namespace tf::accel {
namespace {

PyObject* g_stand_in_type = nullptr;

PyObject* StandIn_descr_get(PyObject* self, PyObject* obj, PyObject*) {
  if (!obj || obj == Py_None) return Py_NewRef(self);
  return PyMethod_New(self, obj);
}

// Pickled by reference, as the original function is: the name (its
// __module__ and __qualname__) leads back to the stand-in installed there.
PyObject* StandIn_reduce(PyObject* self, PyObject*) {
  return PyObject_GetAttrString(stand_in_original(self), "__qualname__");
}

bool is_own_attribute(PyObject* name) {
  return PyUnicode_CompareWithASCIIString(name, "__class__") == 0 ||
         PyUnicode_CompareWithASCIIString(name, "__reduce__") == 0 ||
         PyUnicode_CompareWithASCIIString(name, "__reduce_ex__") == 0;
}

PyObject* StandIn_getattro(PyObject* self, PyObject* name) {
  PyObject* original = stand_in_original(self);
  if (PyUnicode_Check(name) && PyUnicode_CompareWithASCIIString(name, "__wrapped__") == 0)
    return Py_NewRef(original);
  if (PyUnicode_Check(name) && PyUnicode_GET_LENGTH(name) > 0 && PyUnicode_READ_CHAR(name, 0) == '_' &&
      !is_own_attribute(name))
    return PyObject_GetAttr(original, name);
  PyObject* r = PyObject_GenericGetAttr(self, name);
  if (r || !PyErr_ExceptionMatches(PyExc_AttributeError)) return r;
  PyErr_Clear();
  return PyObject_GetAttr(original, name);
}

PyObject* StandIn_repr(PyObject* self) { return PyObject_Repr(stand_in_original(self)); }

int StandIn_traverse(PyObject* self, visitproc visit, void* arg) {
  auto* s = reinterpret_cast<StandInObject*>(self);
  Py_VISIT(s->original);
  Py_VISIT(s->state);
  return 0;
}

int StandIn_clear(PyObject* self) {
  auto* s = reinterpret_cast<StandInObject*>(self);
  Py_CLEAR(s->original);
  Py_CLEAR(s->state);
  return 0;
}

void StandIn_dealloc(PyObject* self) {
  PyObject_GC_UnTrack(self);
  StandIn_clear(self);
  PyTypeObject* tp = Py_TYPE(self);
  tp->tp_free(self);
  Py_DECREF(tp);
}

PyMethodDef g_stand_in_methods[] = {{"__reduce__", StandIn_reduce, METH_NOARGS, nullptr},
                                     {nullptr, nullptr, 0, nullptr}};

PyMemberDef g_stand_in_members[] = {
    {"__vectorcalloffset__", T_PYSSIZET, offsetof(StandInObject, vectorcall), READONLY, nullptr},
    {nullptr, 0, 0, 0, nullptr}};

PyType_Slot g_stand_in_slots[] = {{Py_tp_call, reinterpret_cast<void*>(PyVectorcall_Call)},
                                  {Py_tp_descr_get, reinterpret_cast<void*>(StandIn_descr_get)},
                                  {Py_tp_getattro, reinterpret_cast<void*>(StandIn_getattro)},
                                  {Py_tp_repr, reinterpret_cast<void*>(StandIn_repr)},
                                  {Py_tp_traverse, reinterpret_cast<void*>(StandIn_traverse)},
                                  {Py_tp_clear, reinterpret_cast<void*>(StandIn_clear)},
                                  {Py_tp_dealloc, reinterpret_cast<void*>(StandIn_dealloc)},
                                  {Py_tp_members, g_stand_in_members},
                                  {Py_tp_methods, g_stand_in_methods},
                                  {0, nullptr}};

PyType_Spec g_stand_in_spec = {"_framework_accel.stand_in", sizeof(StandInObject), 0,
                               Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL,
                               g_stand_in_slots};

}  // namespace

PyObject* make_stand_in(vectorcallfunc implementation, PyObject* original, PyObject* state) {
  auto* self = PyObject_GC_New(StandInObject, reinterpret_cast<PyTypeObject*>(g_stand_in_type));
  if (!self) return nullptr;
  self->vectorcall = implementation;
  self->original = Py_NewRef(original);
  self->state = Py_NewRef(state ? state : Py_None);
  PyObject_GC_Track(self);
  return reinterpret_cast<PyObject*>(self);
}

PyObject* call_stand_in_original(PyObject* self, PyObject* const* args, size_t nargsf, PyObject* kwnames) {
  return PyObject_Vectorcall(stand_in_original(self), args, nargsf, kwnames);
}

int add_stand_in_type(PyObject* module) {
  if (!g_stand_in_type) g_stand_in_type = PyType_FromSpec(&g_stand_in_spec);
  if (!g_stand_in_type) return -1;
  return PyModule_AddObjectRef(module, "stand_in", g_stand_in_type);
}

}  // namespace tf::accel
