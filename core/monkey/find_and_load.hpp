// Patching on import: importlib's _find_and_load wrapped in C.
#pragma once

#include <Python.h>

namespace tf::core {

// Adds make_find_and_load. -1 on error.
int add_find_and_load(PyObject* module);

}  // namespace tf::core
