// CPython 3.11 functions that python3's own main() uses but that are not in
// the public headers. tfpython links libpython statically (or against the
// same build), so they resolve; reproducing python3's behaviour exactly is
// worth depending on them. Checked against 3.11.2 (Debian 12).
#pragma once

#include <Python.h>

extern "C" {
// sys.path[0] for a script, -c or -m, computed from argv (Python/pathconfig.c).
int _PyPathConfig_ComputeSysPath0(const PyWideStringList* argv, PyObject** path0);
// Prints a SystemExit's message and gives its exit code without exiting;
// 0 when the exception is not SystemExit (or -i is in force).
int _Py_HandleSystemExit(int* exitcode);
// Set by the run functions when KeyboardInterrupt ends the program.
extern int _Py_UnhandledKeyboardInterrupt;
}
