// The Waiter object: one task at a time parks on it; anyone in the hub's
// thread wakes it with a value or an exception, other threads with
// wake_threadsafe(). select's wait_any() parks on one too.
#pragma once

#include <Python.h>

#include <cstdint>

namespace tf::core {

struct WaiterObject {
  PyObject_HEAD
  uint64_t name;  // the parked task's waiter name; 0 when nobody waits
  uint64_t hub_serial;
};

// The Waiter type (strong, for the life of the process); null before add_waiter().
PyTypeObject* waiter_type();
// GreenHub::park's publish callback for a WaiterObject context.
void publish_waiter_name(void* ctx, uint64_t name);

// Adds Waiter and TIMED_OUT. -1 on error.
int add_waiter(PyObject* module);

}  // namespace tf::core
