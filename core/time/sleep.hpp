// time.sleep inside the hub: a timer on the hub's loop; outside, the original.
#pragma once

#include <Python.h>

namespace tf::core {

// Adds sleep (made from time.sleep) and make_sleep. -1 on error.
int add_sleep(PyObject* module);

}  // namespace tf::core
