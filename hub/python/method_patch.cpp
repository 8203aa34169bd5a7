#include "hub/python/method_patch.hpp"

#include "hub/python/py_ref.hpp"

namespace tf::core {

namespace {
PyMethodDef* def_of(PyObject* descriptor) { return reinterpret_cast<PyMethodDescrObject*>(descriptor)->d_method; }
}  // namespace

bool patch_type_method(PyTypeObject* type, PyMethodDef* def, PyObject** original) {
  PyObject* found = PyDict_GetItemString(type->tp_dict, def->ml_name);  // borrowed
  if (!found || Py_TYPE(found) != &PyMethodDescr_Type || def_of(found)->ml_flags != def->ml_flags) {
    PyErr_Format(PyExc_RuntimeError, "%s.%s is not the method tfpython expects", type->tp_name, def->ml_name);
    return false;
  }
  def->ml_doc = def_of(found)->ml_doc;
  PyRef ours = PyRef::steal(PyDescr_NewMethod(type, def));
  if (!ours) return false;
  *original = Py_NewRef(found);
  return PyDict_SetItemString(type->tp_dict, def->ml_name, ours.get()) == 0;
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

}  // namespace tf::core
