// tfpython: python3's command line, with the program run in a greenlet
// driven by the hub (on io_uring, or on epoll where the system refuses
// io_uring): the program's greenlet is the main thread, and the threads it
// starts are fiber-threads on the same hub. main() follows CPython 3.11's
// Modules/main.c (Py_BytesMain -> pymain_main -> pymain_init, Py_RunMain).
// The order of start-up is the design's:
//   1. PyConfig from argv by CPython's own parser;
//   2. _framework_core and _framework_accel registered as builtin modules;
//   3. the interpreter initialised;
//   4. greenlet and theframework imported, the patches installed;
//   5. the program run in the hub's target greenlet (a child of the root
//      greenlet, which becomes the hub and runs the loop);
//   6. the interactive prompt, if any, on the root greenlet;
//   7. python3's exit status.
#include <Python.h>

#include <strings.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "accel/python/module.hpp"
#include "hub/backend.hpp"
#include "core/module.hpp"
#include "core/py_ref.hpp"
#include "core/recursion_depth.hpp"
#include "launcher/cpython_internals.hpp"
#include "launcher/pylib_path.hpp"
#include "launcher/run_target.hpp"

namespace {

using tf::core::PyRef;

// pymain_exit_error(), with pymain_main()'s exit for an exit status (-h, -V
// and usage errors).
[[noreturn]] void exit_on_status(PyStatus status) {
  if (PyStatus_IsExit(status)) std::exit(status.exitcode);
  Py_ExitStatusException(status);
}

// pymain_init(), with our builtin modules registered before
// Py_InitializeFromConfig.
void initialise(int argc, char** argv) {
  PyPreConfig preconfig;
  PyPreConfig_InitPythonConfig(&preconfig);
  PyStatus status = Py_PreInitializeFromBytesArgs(&preconfig, argc, argv);
  if (PyStatus_Exception(status)) exit_on_status(status);

  PyConfig config;
  PyConfig_InitPythonConfig(&config);
  // Read once, by Py_InitializeFromConfig, as python3's own main does: a
  // second read of an already-read config loses -X warn_default_encoding.
  status = PyConfig_SetBytesArgv(&config, argc, argv);
  if (PyStatus_Exception(status)) {
    PyConfig_Clear(&config);
    exit_on_status(status);
  }
  if (PyImport_AppendInittab("_framework_core", PyInit__framework_core) < 0 ||
      PyImport_AppendInittab("_framework_accel", PyInit__framework_accel) < 0) {
    std::fprintf(stderr, "tfpython: cannot register our builtin modules\n");
    std::exit(1);
  }
  status = Py_InitializeFromConfig(&config);
  PyConfig_Clear(&config);
  if (PyStatus_Exception(status)) exit_on_status(status);  // -h, -V and usage errors exit here, as python3's do
}

// TFPYTHON_BACKEND: io_uring, epoll, or auto (unset). A bad value, or a
// forced io_uring this system refuses, ends start-up with one line and
// status 1, as a bad PYTHON* variable does under python3.
void choose_backend() {
  namespace hub = tf::hub;
  const char* text = std::getenv("TFPYTHON_BACKEND");
  hub::Backend wanted;
  if (!hub::parse_backend(text, &wanted)) {
    std::fprintf(stderr, "tfpython: TFPYTHON_BACKEND must be io_uring, epoll or auto, not '%s'\n", text);
    std::exit(1);
  }
  hub::set_backend_preference(wanted);
  hub::Backend got;
  if (wanted == hub::Backend::kIoUring) {
    if (int error = hub::resolve_backend(&got); error != 0) {
      std::fprintf(stderr,
                   "tfpython: TFPYTHON_BACKEND=io_uring, but this system refuses io_uring (%s); "
                   "TFPYTHON_BACKEND=epoll runs without it\n",
                   std::strerror(error));
      std::exit(1);
    }
  }
}

// TFPYTHON_NO_PATCH=1 (yes, true, all) leaves the whole standard library
// alone; a list of modules ("socket,ssl") is read by theframework.monkey.
bool patching_wanted() {
  const char* v = std::getenv("TFPYTHON_NO_PATCH");
  if (!v) return true;
  for (const char* all : {"1", "yes", "true", "all"})
    if (strcasecmp(v, all) == 0) return false;
  return true;
}

// theframework._program_started() / _program_finished(): what the package
// does around the program (the main thread's identity; joining threads).
void call_framework_hook(const char* name) {
  PyRef framework = PyRef::steal(PyImport_ImportModule("theframework"));
  PyRef r = framework ? PyRef::steal(PyObject_CallMethod(framework.get(), name, nullptr)) : PyRef();
  if (!r) PyErr_Print();
}

PyObject* program_entry(PyObject*, PyObject*) {
  call_framework_hook("_program_started");
  // The program starts at recursion depth 0, as under python3: the calls
  // that brought us into this greenlet must not use up the user's limit.
  int exitcode;
  {
    tf::core::recursion::DepthScope depth(PyThreadState_Get(), 0);
    exitcode = tf::launcher::run_program();
  }
  // As python3 does at exit (wait_for_thread_shutdown() in Py_FinalizeEx,
  // before atexit handlers): wait for the non-daemon threads, which are
  // fiber-threads of this hub, so the wait is done inside it.
  call_framework_hook("_program_finished");
  return PyLong_FromLong(exitcode);
}

PyMethodDef g_program_def = {"__tfpython_program__", program_entry, METH_NOARGS, nullptr};

// Runs the program in the hub's target greenlet; python3's exit code.
// (With run_interactive() after it, what pymain_run_python() does.)
int run_in_hub() {
  PyRef core = PyRef::steal(PyImport_ImportModule("_framework_core"));
  PyRef run = core ? PyRef::steal(PyObject_GetAttrString(core.get(), "run")) : PyRef();
  PyRef entry = PyRef::steal(PyCFunction_New(&g_program_def, nullptr));
  PyRef result = run && entry ? PyRef::steal(PyObject_CallOneArg(run.get(), entry.get())) : PyRef();
  if (!result) {
    std::fprintf(stderr, "tfpython: the hub failed:\n");
    PyErr_Print();
    return 1;
  }
  // A child forked from a fiber-thread ends when that thread's function
  // returns (None), as python3's child ends with its only thread: status 0,
  // and no interpreter finalisation (no atexit, no thread joining).
  if (!PyLong_Check(result.get())) _exit(0);
  return static_cast<int>(PyLong_AsLong(result.get()));
}

}  // namespace

// pymain_main() and Py_RunMain(): initialise, run the program (here in the
// hub, then the prompt), Py_FinalizeEx (120 if it fails), exit_sigint().
int main(int argc, char** argv) {
  initialise(argc, argv);
  choose_backend();
  tf::launcher::PylibSearch pylib = tf::launcher::find_pylib();
  if (pylib.found.empty()) {
    std::fprintf(stderr, "tfpython: cannot find the theframework package: looked in %s (an installed "
                 "tfpython) and for %s (a build tree)\n", pylib.installed.c_str(), pylib.build_tree_note.c_str());
    Py_FinalizeEx();
    return 1;
  }
  if (!tf::launcher::bootstrap_framework(pylib.found, patching_wanted())) {
    std::fprintf(stderr, "tfpython: cannot start theframework:\n");
    PyErr_Print();
    Py_FinalizeEx();
    return 1;
  }
  int exitcode = run_in_hub();
  tf::launcher::run_interactive(&exitcode);
  if (Py_FinalizeEx() < 0) exitcode = 120;
  if (_Py_UnhandledKeyboardInterrupt) exitcode = tf::launcher::exit_by_sigint();
  return exitcode;
}
