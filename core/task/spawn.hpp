// tf.spawn(): a theframework.Greenlet made, scheduled, run and ended in C
// (no Python frame of ours in a spawned task), and the raw greenlets of
// spawn_raw() and schedule().
#pragma once

#include <Python.h>

namespace tf::core {

// Adds spawn, spawn_raw, set_task_class, run_current_task. -1 on error.
int add_spawn(PyObject* module);

}  // namespace tf::core
