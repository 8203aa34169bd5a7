// The one function the launcher needs from the module: its initialiser,
// for PyImport_AppendInittab.
#pragma once

#include <Python.h>

extern "C" PyObject* PyInit__framework_core();
