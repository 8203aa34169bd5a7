// Who the current thread is: the one place that decides it. A thread is a
// fiber-thread (its object's id() is its ident), a greenlet (code that runs
// in a greenlet of the hub is a thread of its own), the main thread (the
// program's greenlet, also on its OS thread's root greenlet), or a plain OS
// thread (python3's ident).
#include "core/thread/identity.hpp"

#include <pythread.h>

#include "core/task/fiber.hpp"
#include "core/task/green_hub.hpp"
#include "core/task/greenlet_api.hpp"

namespace tf::core {
namespace {

// A thread's ident is id() of its fiber (or of the greenlet, for code that
// runs in a greenlet); the program's greenlet is the main thread, also when
// code runs on its OS thread's root greenlet (at exit, before the hub).
PyObject* g_main_greenlet = nullptr;  // strong
unsigned long g_main_os_ident = 0;

}  // namespace

PyObject* main_thread_greenlet() { return g_main_greenlet; }

PyRef current_thread_greenlet() {
  if (!greenlet::import_api()) {
    PyErr_Clear();
    return {};
  }
  PyRef g = greenlet::current();
  if (!g) {
    PyErr_Clear();
    return {};
  }
  if (GreenHub* hub = GreenHub::current()) {
    if (PyObject* fiber = hub->fiber_for(g.get())) return PyRef::borrow(fiber);
  }
  if (g_main_greenlet && !greenlet::has_parent(g.get()) && PyThread_get_thread_ident() == g_main_os_ident)
    return PyRef::borrow(g_main_greenlet);
  return g;
}

unsigned long current_ident() {
  PyRef g = current_thread_greenlet();
  if (!g) return PyThread_get_thread_ident();
  // Another OS thread's root greenlet is that OS thread (started before
  // patching, a run_in_thread worker, a C library's thread, one that ran a
  // hub of its own): python3's ident, the one threading registered it under.
  if (g.get() != g_main_greenlet && !fiber::check(g.get()) && !greenlet::has_parent(g.get()))
    return PyThread_get_thread_ident();
  return reinterpret_cast<unsigned long>(g.get());
}

namespace {

PyObject* get_ident(PyObject*, PyObject*) { return PyLong_FromUnsignedLong(current_ident()); }

PyObject* thread_greenlet(PyObject*, PyObject*) {
  PyRef g = current_thread_greenlet();
  if (!g) {
    PyErr_SetString(PyExc_RuntimeError, "thread_greenlet(): greenlet is not available");
    return nullptr;
  }
  return g.release();
}

// current_task(): what a wait here parks and core.throw() can reach: the
// running fiber-thread, else the current greenlet.
PyObject* current_task(PyObject*, PyObject*) {
  if (GreenHub* hub = GreenHub::current()) return hub->current_task().release();
  if (!greenlet::import_api()) return nullptr;
  return greenlet::current().release();
}

PyObject* set_main_thread(PyObject*, PyObject* args) {
  PyObject* g;
  unsigned long os_ident;
  if (!PyArg_ParseTuple(args, "Ok:set_main_thread", &g, &os_ident)) return nullptr;
  Py_XSETREF(g_main_greenlet, g == Py_None ? nullptr : Py_NewRef(g));
  g_main_os_ident = os_ident;
  Py_RETURN_NONE;
}

PyMethodDef g_get_ident_def = {
    "get_ident", get_ident, METH_NOARGS,
    "get_ident() -> integer\n\nReturn a non-zero integer that uniquely identifies the current thread\n"
    "amongst other threads that exist simultaneously.\nThis may be used to identify per-thread resources.\n"
    "Even though on some platforms threads identities may appear to be\nallocated consecutive numbers "
    "starting at 1, this behavior should not\nbe relied upon, and the number should be seen purely as a "
    "magic cookie.\nA thread's identity may be reused for another thread after it exits."};
PyMethodDef g_thread_greenlet_def = {
    "thread_greenlet", thread_greenlet, METH_NOARGS,
    "thread_greenlet(): the fiber or greenlet that is the current thread (the program's greenlet on\n"
    "its OS thread's root greenlet); get_ident() is its id()."};
PyMethodDef g_current_task_def = {
    "current_task", current_task, METH_NOARGS,
    "current_task(): the running fiber-thread, else the current greenlet."};
PyMethodDef g_set_main_thread_def = {
    "set_main_thread", set_main_thread, METH_VARARGS,
    "set_main_thread(greenlet, os_ident): the greenlet that is the main thread, and its OS thread."};

}  // namespace

int add_thread_identity(PyObject* module) {
  PyRef module_name = PyRef::steal(PyUnicode_FromString("_thread"));
  PyRef ident = module_name ? PyRef::steal(PyCFunction_NewEx(&g_get_ident_def, nullptr, module_name.get())) : PyRef();
  if (!ident || PyModule_AddObjectRef(module, "get_ident", ident.get()) < 0) return -1;
  for (PyMethodDef* def : {&g_thread_greenlet_def, &g_current_task_def, &g_set_main_thread_def}) {
    PyRef fn = PyRef::steal(PyCFunction_NewEx(def, nullptr, nullptr));
    if (!fn || PyModule_AddObjectRef(module, def->ml_name, fn.get()) < 0) return -1;
  }
  return 0;
}

}  // namespace tf::core
