// Our Python-level patches must not show up in the user's tracebacks:
// python3's blocking calls are C and add no frame. hide_frames(func) gives
// a C callable (and method descriptor) that calls func and, when it
// raises, removes from the traceback every entry whose code lives under
// the package directory registered with set_hidden_path().
#pragma once

#include <Python.h>

namespace tf::core {

int add_hidden_frames(PyObject* module);

}  // namespace tf::core
