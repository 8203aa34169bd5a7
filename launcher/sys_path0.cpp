#include "launcher/sys_path0.hpp"

#include <limits.h>

#include <cwchar>

#include "launcher/cpython_internals.hpp"

namespace tf::launcher {

// _PyPathConfig_ComputeSysPath0() of CPython 3.11's Python/pathconfig.c,
// for Linux only (no Windows drive or separator cases).
int compute_sys_path0(const PyWideStringList& argv, PyObject** path0_out) {
  if (argv.length == 0) return 0;
  const wchar_t* argv0 = argv.items[0];
  bool module_arg = std::wcscmp(argv0, L"-m") == 0;
  bool script_arg = !module_arg && std::wcscmp(argv0, L"-c") != 0;

  const wchar_t* path0 = argv0;
  Py_ssize_t n = 0;
  wchar_t fullpath[PATH_MAX];
  if (module_arg) {
    if (!_Py_wgetcwd(fullpath, PATH_MAX)) return 0;
    path0 = fullpath;
    n = static_cast<Py_ssize_t>(std::wcslen(path0));
  }

  // A symlinked script: sys.path[0] follows the link once.
  wchar_t link[PATH_MAX + 1];
  wchar_t joined[2 * PATH_MAX + 1];
  int nr = script_arg ? _Py_wreadlink(path0, link, PATH_MAX) : 0;
  if (nr > 0) {
    link[nr] = L'\0';
    if (link[0] == L'/') {
      path0 = link;
    } else if (std::wcschr(link, L'/') != nullptr) {
      const wchar_t* slash = std::wcsrchr(path0, L'/');
      if (!slash) {
        path0 = link;
      } else {
        std::wcsncpy(joined, path0, PATH_MAX);
        joined[PATH_MAX] = L'\0';
        wchar_t* q = std::wcsrchr(joined, L'/');
        std::wcsncpy(q + 1, link, PATH_MAX);
        q[PATH_MAX + 1] = L'\0';
        path0 = joined;
      }
    }
  }

  const wchar_t* slash = nullptr;
  if (script_arg) {
    if (_Py_wrealpath(path0, fullpath, PATH_MAX)) path0 = fullpath;
    slash = std::wcsrchr(path0, L'/');
  }
  if (slash) {
    n = slash + 1 - path0;
    if (n > 1) --n;  // drop the trailing separator, but keep "/"
  }
  PyObject* obj = PyUnicode_FromWideChar(path0, n);
  if (!obj) return -1;
  *path0_out = obj;
  return 1;
}

}  // namespace tf::launcher
