#include "launcher/pylib_path.hpp"

#include <Python.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "core/py_ref.hpp"

namespace tf::launcher {

using core::PyRef;

namespace {

bool is_file(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string executable_dir() {
  char buf[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return {};
  std::string exe(buf, static_cast<size_t>(n));
  return exe.substr(0, exe.rfind('/'));
}

// Runs in a private namespace: nothing is left in __main__.
constexpr const char kBootstrap[] = R"PY(
def bootstrap(pylib, greenlet_dir, patch):
    import sys
    try:
        import greenlet
    except ImportError:
        # Debian's dist-packages is not on sys.path under -S or -I; borrow
        # it just long enough to import greenlet.
        sys.path.append(greenlet_dir)
        try:
            import greenlet
        finally:
            sys.path.remove(greenlet_dir)
    # The frozen importlib modules are loaded already: nothing to import.
    from _frozen_importlib import ModuleSpec, module_from_spec
    from _frozen_importlib_external import SourceFileLoader
    package_dir = pylib + "/theframework"
    init = package_dir + "/__init__.py"
    spec = ModuleSpec("theframework", SourceFileLoader("theframework", init),
                      origin=init, is_package=True)
    spec.submodule_search_locations = [package_dir]
    spec.has_location = True
    module = module_from_spec(spec)
    sys.modules["theframework"] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules["theframework"]
        raise
    module._start_under_launcher(patch)
)PY";

}  // namespace

PylibSearch find_pylib() {
  PylibSearch search;
  std::string exe_dir = executable_dir();
  search.installed = exe_dir + "/" TF_PYLIB_FROM_BINDIR;
  search.build_tree_note = exe_dir + "/" TF_BUILD_TREE_NOTE;
  if (is_file(search.installed + "/theframework/__init__.py")) {
    // As python3 reports its own prefix: without "bin/..".
    char real[PATH_MAX];
    search.found = ::realpath(search.installed.c_str(), real) ? real : search.installed;
  } else if (std::ifstream note{search.build_tree_note}; note && std::getline(note, search.found)) {
    if (!is_file(search.found + "/theframework/__init__.py")) search.found.clear();
  }
  return search;
}

bool bootstrap_framework(const std::string& pylib, bool patch) {
  PyRef globals = PyRef::steal(PyDict_New());
  if (!globals || PyDict_SetItemString(globals.get(), "__builtins__", PyEval_GetBuiltins()) < 0) return false;
  PyRef code = PyRef::steal(Py_CompileString(kBootstrap, "<tfpython bootstrap>", Py_file_input));
  if (!code) return false;
  PyRef done = PyRef::steal(PyEval_EvalCode(code.get(), globals.get(), globals.get()));
  if (!done) return false;
  PyObject* fn = PyDict_GetItemString(globals.get(), "bootstrap");
  PyRef r = PyRef::steal(PyObject_CallFunction(fn, "ssO", pylib.c_str(), TF_GREENLET_DIR,
                                               patch ? Py_True : Py_False));
  return bool(r);
}

}  // namespace tf::launcher
