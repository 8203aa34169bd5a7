#include "core/monkey/hidden_frames.hpp"

#include <frameobject.h>
#include <structmember.h>

#include <algorithm>
#include <cstddef>
#include <cstring>

#include <string>
#include <vector>

#include "core/py_ref.hpp"

namespace tf::core {
namespace {

std::string g_hidden_prefix;  // e.g. "/usr/lib/tfpython/pylib/theframework/"

bool is_hidden(PyObject* tb) {
  if (g_hidden_prefix.empty()) return false;
  PyFrameObject* frame = reinterpret_cast<PyTracebackObject*>(tb)->tb_frame;
  if (!frame) return false;
  PyRef code = PyRef::steal(reinterpret_cast<PyObject*>(PyFrame_GetCode(frame)));
  const char* file = PyUnicode_AsUTF8(reinterpret_cast<PyCodeObject*>(code.get())->co_filename);
  if (!file) {
    PyErr_Clear();
    return false;
  }
  return std::strncmp(file, g_hidden_prefix.c_str(), g_hidden_prefix.size()) == 0;
}

// Drops our entries from the pending exception's traceback.
// Not inlined: Hidden_vectorcall stays on the stack while func runs.
[[gnu::noinline]] void strip_pending_traceback() {
  PyObject *type, *value, *tb;
  PyErr_Fetch(&type, &value, &tb);
  PyErr_NormalizeException(&type, &value, &tb);
  std::vector<PyObject*> kept;
  for (PyObject* t = tb; t && t != Py_None; t = reinterpret_cast<PyObject*>(
                                                  reinterpret_cast<PyTracebackObject*>(t)->tb_next)) {
    if (!is_hidden(t)) kept.push_back(t);
  }
  PyObject* new_tb = nullptr;
  for (size_t i = kept.size(); i-- > 0;) {
    auto* entry = reinterpret_cast<PyTracebackObject*>(kept[i]);
    PyObject* next = new_tb ? new_tb : nullptr;
    Py_XSETREF(entry->tb_next, reinterpret_cast<PyTracebackObject*>(Py_XNewRef(next)));
    new_tb = kept[i];
  }
  Py_XINCREF(new_tb);
  if (value) PyException_SetTraceback(value, new_tb ? new_tb : Py_None);
  Py_XDECREF(tb);
  PyErr_Restore(type, value, new_tb);
}

struct HiddenObject {
  PyObject_HEAD
  PyObject* func;
  vectorcallfunc vectorcall;
  bool bind;  // a method (binds like a function) or a builtin (does not)
};

PyObject* Hidden_vectorcall(PyObject* self, PyObject* const* args, size_t nargsf, PyObject* kwnames) {
  PyObject* r = PyObject_Vectorcall(reinterpret_cast<HiddenObject*>(self)->func, args, nargsf, kwnames);
  if (!r) strip_pending_traceback();
  return r;
}

PyObject* Hidden_descr_get(PyObject* self, PyObject* obj, PyObject*) {
  if (!obj || obj == Py_None || !reinterpret_cast<HiddenObject*>(self)->bind) return Py_NewRef(self);
  return PyMethod_New(self, obj);
}

PyObject* Hidden_getattro(PyObject* self, PyObject* name) {
  // Introspection (__name__, __doc__, __wrapped__, ...) is the function's.
  PyObject* func = reinterpret_cast<HiddenObject*>(self)->func;
  if (PyUnicode_Check(name) && PyUnicode_CompareWithASCIIString(name, "__wrapped__") == 0)
    return Py_NewRef(func);
  if (PyUnicode_Check(name) && PyUnicode_READ_CHAR(name, 0) == '_' &&
      PyUnicode_CompareWithASCIIString(name, "__class__") != 0)
    return PyObject_GetAttr(func, name);
  PyObject* r = PyObject_GenericGetAttr(self, name);
  if (r || !PyErr_ExceptionMatches(PyExc_AttributeError)) return r;
  PyErr_Clear();
  return PyObject_GetAttr(func, name);
}

PyObject* Hidden_repr(PyObject* self) { return PyObject_Repr(reinterpret_cast<HiddenObject*>(self)->func); }

int Hidden_traverse(PyObject* self, visitproc visit, void* arg) {
  Py_VISIT(reinterpret_cast<HiddenObject*>(self)->func);
  return 0;
}

int Hidden_clear(PyObject* self) {
  Py_CLEAR(reinterpret_cast<HiddenObject*>(self)->func);
  return 0;
}

void Hidden_dealloc(PyObject* self) {
  PyObject_GC_UnTrack(self);
  Hidden_clear(self);
  PyTypeObject* tp = Py_TYPE(self);
  tp->tp_free(self);
  Py_DECREF(tp);
}

PyMemberDef g_hidden_members[] = {
    {"__vectorcalloffset__", T_PYSSIZET, offsetof(HiddenObject, vectorcall), READONLY, nullptr},
    {nullptr, 0, 0, 0, nullptr}};

PyType_Slot g_hidden_slots[] = {{Py_tp_call, reinterpret_cast<void*>(PyVectorcall_Call)},
                                {Py_tp_descr_get, reinterpret_cast<void*>(Hidden_descr_get)},
                                {Py_tp_getattro, reinterpret_cast<void*>(Hidden_getattro)},
                                {Py_tp_repr, reinterpret_cast<void*>(Hidden_repr)},
                                {Py_tp_traverse, reinterpret_cast<void*>(Hidden_traverse)},
                                {Py_tp_clear, reinterpret_cast<void*>(Hidden_clear)},
                                {Py_tp_dealloc, reinterpret_cast<void*>(Hidden_dealloc)},
                                {Py_tp_members, g_hidden_members},
                                {0, nullptr}};

PyType_Spec g_hidden_spec = {"_framework_core.hidden_frames", sizeof(HiddenObject), 0,
                             Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL,
                             g_hidden_slots};

PyObject* g_hidden_type = nullptr;

PyObject* hide_frames(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  if (!_PyArg_CheckPositional("hide_frames", nargs, 1, 2)) return nullptr;
  PyObject* func = args[0];
  int bind = nargs > 1 ? PyObject_IsTrue(args[1]) : 0;
  if (bind < 0) return nullptr;
  if (Py_IS_TYPE(func, reinterpret_cast<PyTypeObject*>(g_hidden_type))) return Py_NewRef(func);
  auto* self = PyObject_GC_New(HiddenObject, reinterpret_cast<PyTypeObject*>(g_hidden_type));
  if (!self) return nullptr;
  self->func = Py_NewRef(func);
  self->vectorcall = Hidden_vectorcall;
  self->bind = bind;
  PyObject_GC_Track(self);
  return reinterpret_cast<PyObject*>(self);
}

PyObject* set_hidden_path(PyObject*, PyObject* path) {
  const char* p = PyUnicode_AsUTF8(path);
  if (!p) return nullptr;
  g_hidden_prefix = p;
  Py_RETURN_NONE;
}

PyMethodDef g_methods[] = {
    {"hide_frames", reinterpret_cast<PyCFunction>(hide_frames), METH_FASTCALL,
     "hide_frames(func, method=False): a callable like func whose own frames never show in a\n"
     "traceback; as a class attribute it binds only when method is true (a builtin does not)."},
    {"set_hidden_path", set_hidden_path, METH_O, "set_hidden_path(prefix): code under prefix is hidden."},
    {nullptr, nullptr, 0, nullptr}};

}  // namespace

int add_hidden_frames(PyObject* module) {
  g_hidden_type = PyType_FromSpec(&g_hidden_spec);
  if (!g_hidden_type) return -1;
  return PyModule_AddFunctions(module, g_methods);
}

}  // namespace tf::core
