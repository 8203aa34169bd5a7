// CPython 3.11 functions that python3's own main() uses but that are not in
// the public headers. Debian's libpython3.11 exports them; reproducing python3's behaviour exactly is
// worth depending on them. Checked against 3.11.2 (Debian 12).
#pragma once

#include <Python.h>

extern "C" {
// Prints a SystemExit's message and gives its exit code without exiting;
// 0 when the exception is not SystemExit (or -i is in force).
int _Py_HandleSystemExit(int* exitcode);
// Wide-character path helpers (Include/internal/pycore_fileutils.h).
wchar_t* _Py_wgetcwd(wchar_t* buf, size_t buflen);
int _Py_wreadlink(const wchar_t* path, wchar_t* buf, size_t buflen);
wchar_t* _Py_wrealpath(const wchar_t* path, wchar_t* resolved_path, size_t resolved_path_len);
// Set by the run functions when KeyboardInterrupt ends the program.
extern int _Py_UnhandledKeyboardInterrupt;
}
