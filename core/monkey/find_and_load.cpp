#include "core/monkey/find_and_load.hpp"

#include "core/py_ref.hpp"

namespace tf::core {
namespace {

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

PyMethodDef g_methods[] = {
    {"make_find_and_load", make_find_and_load, METH_VARARGS,
     "make_find_and_load(original, pending, apply): importlib's _find_and_load that patches\n"
     "on import."},
    {nullptr, nullptr, 0, nullptr}};

}  // namespace

int add_find_and_load(PyObject* module) { return PyModule_AddFunctions(module, g_methods); }

}  // namespace tf::core
