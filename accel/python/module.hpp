// _framework_accel, a builtin module of tfpython (and an extension module
// for plain python3).
#pragma once

#include <Python.h>

extern "C" PyObject* PyInit__framework_accel();
