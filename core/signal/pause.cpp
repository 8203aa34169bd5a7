#include "core/signal/pause.hpp"

#include <vector>

#include "core/task/green_hub.hpp"

namespace tf::core {
namespace {

// The waiters parked in pause() on this thread's hub (names go stale when
// their wait ends another way; wake() ignores those).
thread_local std::vector<uint64_t> t_paused;

void remember_paused(void*, uint64_t name) { t_paused.push_back(name); }

PyObject* pause(PyObject*, PyObject*) {
  if (!GreenHub::cooperative_here()) {
    PyErr_SetString(PyExc_RuntimeError, "pause() needs a running hub in this thread");
    return nullptr;
  }
  PyRef value;
  if (GreenHub::current()->park(-1, &value, remember_paused, nullptr) == WaitStatus::kFailed) return nullptr;
  Py_RETURN_NONE;
}

PyObject* signal_handled(PyObject*, PyObject*) {
  GreenHub* hub = GreenHub::current();
  if (hub && !t_paused.empty()) {
    std::vector<uint64_t> names;
    names.swap(t_paused);
    for (uint64_t name : names) hub->wake(name, Py_None);
  }
  Py_RETURN_NONE;
}

PyMethodDef g_methods[] = {
    {"pause", pause, METH_NOARGS, "pause(): park until a Python signal handler has run."},
    {"signal_handled", signal_handled, METH_NOARGS, "signal_handled(): a handler ran; resume pause()."},
    {nullptr, nullptr, 0, nullptr}};

}  // namespace

int add_signal_pause(PyObject* module) { return PyModule_AddFunctions(module, g_methods); }

}  // namespace tf::core
