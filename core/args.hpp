// What the entry points of every feature parse the same way.
#pragma once

#include <Python.h>

#include "core/task/green_hub.hpp"

namespace tf::core {

// A timeout argument: None -> -1 (no limit); a number -> seconds, negative
// clamped to 0; NaN is python3's ValueError.
bool parse_timeout(PyObject* obj, double* out);

// This thread's running hub, or nullptr with RuntimeError set.
GreenHub* running_hub_or_raise();

}  // namespace tf::core
