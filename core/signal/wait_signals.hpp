// signal.sigwait / sigwaitinfo / sigtimedwait inside the hub: a signalfd
// for the set, waited for on the hub.
#pragma once

#include <Python.h>

namespace tf::core {

// Adds wait_signals. -1 on error.
int add_wait_signals(PyObject* module);

}  // namespace tf::core
