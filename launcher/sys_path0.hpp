// sys.path[0] as python3 3.11 computes it from argv: the logic of
// _PyPathConfig_ComputeSysPath0() in Python/pathconfig.c, which Debian's
// libpython does not export.
#pragma once

#include <Python.h>

namespace tf::launcher {

// 1 with *path0 set, 0 when nothing is to be added, -1 with an exception.
//   -c      -> ''
//   -m      -> the current directory
//   script  -> dirname(realpath(script)), a symlinked script resolved first
int compute_sys_path0(const PyWideStringList& argv, PyObject** path0);

}  // namespace tf::launcher
