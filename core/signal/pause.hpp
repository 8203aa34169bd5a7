// signal.pause() inside the hub: the caller parks until a Python signal
// handler has run (the handler wrapper in cooperative_signal calls
// signal_handled()), as python3's pause() returns once a handler ran. What
// a handler raises reaches the main thread as any handler's exception does.
#pragma once

#include <Python.h>

namespace tf::core {

// pause() and signal_handled().
int add_signal_pause(PyObject* module);

}  // namespace tf::core
