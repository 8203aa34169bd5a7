#include "core/monkey/method_patch.hpp"

#include <cstring>
#include <memory>

#include "core/py_ref.hpp"

namespace tf::core {

namespace {
PyMethodDef* def_of(PyObject* descriptor) { return reinterpret_cast<PyMethodDescrObject*>(descriptor)->d_method; }
}  // namespace

PyObject* replacement_method(PyTypeObject* type, PyMethodDef* def, PyObject** original, PyObject** ours) {
  if (*ours) return Py_NewRef(*ours);
  PyObject* found = PyDict_GetItemString(type->tp_dict, def->ml_name);  // borrowed
  if (!found || Py_TYPE(found) != &PyMethodDescr_Type || def_of(found)->ml_flags != def->ml_flags) {
    PyErr_Format(PyExc_RuntimeError, "%s.%s is not the method tfpython expects", type->tp_name, def->ml_name);
    return nullptr;
  }
  def->ml_doc = def_of(found)->ml_doc;
  PyObject* made = PyDescr_NewMethod(type, def);
  if (!made) return nullptr;
  *original = Py_NewRef(found);
  *ours = made;
  return Py_NewRef(made);
}

PyObject* call_method_o(PyObject* original, PyObject* self, PyObject* arg) {
  return def_of(original)->ml_meth(self, arg);
}

PyObject* call_method_noargs(PyObject* original, PyObject* self) { return def_of(original)->ml_meth(self, nullptr); }

PyObject* call_method_fast(PyObject* original, PyObject* self, PyObject* const* args, Py_ssize_t nargs,
                           PyObject* kwnames) {
  PyMethodDef* def = def_of(original);
  if (def->ml_flags & METH_KEYWORDS)
    return reinterpret_cast<_PyCFunctionFastWithKeywords>(reinterpret_cast<void (*)()>(def->ml_meth))(
        self, args, nargs, kwnames);
  return reinterpret_cast<_PyCFunctionFast>(reinterpret_cast<void (*)()>(def->ml_meth))(self, args, nargs);
}

PyObject* call_with_self(PyObject* callable, PyObject* self, PyObject* const* args, Py_ssize_t nargs,
                         PyObject* kwnames) {
  Py_ssize_t total = nargs + (kwnames ? PyTuple_GET_SIZE(kwnames) : 0);
  PyObject* small[8];
  std::unique_ptr<PyObject*[]> big;
  PyObject** stack = small;
  if (total + 1 > 8) {
    big.reset(new PyObject*[total + 1]);
    stack = big.get();
  }
  stack[0] = self;
  if (total) std::memcpy(stack + 1, args, static_cast<size_t>(total) * sizeof(PyObject*));
  return PyObject_Vectorcall(callable, stack, static_cast<size_t>(nargs) + 1, kwnames);
}

namespace {

PyObject* set_type_attribute(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  if (!_PyArg_CheckPositional("set_type_attribute", nargs, 3, 3)) return nullptr;
  if (!PyType_Check(args[0]) || !PyUnicode_Check(args[1])) {
    PyErr_SetString(PyExc_TypeError, "set_type_attribute(type, name, value)");
    return nullptr;
  }
  auto* type = reinterpret_cast<PyTypeObject*>(args[0]);
  if (PyDict_SetItem(type->tp_dict, args[1], args[2]) < 0) return nullptr;
  PyType_Modified(type);
  Py_RETURN_NONE;
}

PyMethodDef g_methods[] = {
    {"set_type_attribute", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(set_type_attribute)),
     METH_FASTCALL, "set_type_attribute(type, name, value): type.name = value, for built-in types too."},
    {nullptr, nullptr, 0, nullptr}};

}  // namespace

int add_method_patch(PyObject* module) { return PyModule_AddFunctions(module, g_methods); }

}  // namespace tf::core
