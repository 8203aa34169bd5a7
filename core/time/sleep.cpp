#include "core/time/sleep.hpp"

#include "core/py_ref.hpp"
#include "core/task/green_hub.hpp"

namespace tf::core {
namespace {

PyObject* g_original_sleep = nullptr;

// time.sleep, cooperative inside a hub. `original` is the function it
// replaces: outside a hub it is called unchanged.
PyObject* cooperative_sleep(PyObject*, PyObject* arg) {
  if (!GreenHub::cooperative_here()) return PyObject_CallOneArg(g_original_sleep, arg);
  _PyTime_t t;
  // CPython's own conversion, so bad input gets python3's exact errors.
  if (_PyTime_FromSecondsObject(&t, arg, _PyTime_ROUND_TIMEOUT) < 0) return nullptr;
  if (t < 0) {
    PyErr_SetString(PyExc_ValueError, "sleep length must be non-negative");
    return nullptr;
  }
  if (GreenHub::current()->sleep(_PyTime_AsSecondsDouble(t)) == WaitStatus::kFailed) return nullptr;
  Py_RETURN_NONE;
}

PyMethodDef g_sleep_def = {"sleep", cooperative_sleep, METH_O, nullptr};

// A time.sleep that introspects like the original: a builtin function of
// module "time", bound to the time module, with the original's docstring
// (and so python3's wording in argument errors: "time.sleep() takes...").
PyObject* make_sleep(PyObject*, PyObject* original) {
  if (!PyCFunction_Check(original)) {
    PyErr_SetString(PyExc_TypeError, "make_sleep() expects the builtin time.sleep");
    return nullptr;
  }
  Py_XSETREF(g_original_sleep, Py_NewRef(original));
  g_sleep_def.ml_doc = reinterpret_cast<PyCFunctionObject*>(original)->m_ml->ml_doc;
  PyObject* time_module = PyCFunction_GET_SELF(original);
  PyRef module_name = PyRef::steal(PyUnicode_FromString("time"));
  return PyCFunction_NewEx(&g_sleep_def, time_module, module_name.get());
}

PyMethodDef g_methods[] = {
    {"make_sleep", make_sleep, METH_O, "make_sleep(original): a cooperative time.sleep."},
    {nullptr, nullptr, 0, nullptr}};

}  // namespace

int add_sleep(PyObject* module) {
  PyRef time = PyRef::steal(PyImport_ImportModule("time"));
  if (!time) return -1;
  g_original_sleep = PyObject_GetAttrString(time.get(), "sleep");
  if (!g_original_sleep) return -1;
  PyRef sleep = PyRef::steal(make_sleep(module, g_original_sleep));
  if (!sleep || PyModule_AddObjectRef(module, "sleep", sleep.get()) < 0) return -1;
  return PyModule_AddFunctions(module, g_methods);
}

}  // namespace tf::core
