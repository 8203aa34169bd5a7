// A task: what a GreenHub parks and resumes, of one of two kinds.
//  * A greenlet: the program, tf.spawn's Greenlets, raw greenlets. The hub
//    switches to it (or throws into it) through greenlet; it parks by
//    switching to the hub greenlet; the cycle collector may see it.
//  * A fiber-thread (fiber.hpp): a started thread. The hub resumes it on
//    its SharedStack; it parks by suspending there; the hub alone holds it,
//    so the cycle collector never tracks it.
// Either way its object is its identity (get_ident() is its id()) and the
// hub's queues and Waiters hold it the same way. The kinds part in three
// places only: GreenHub::resume (switching.cpp), GreenHub::finish_wait
// (waits.cpp) and what a throw does to a parked fiber (throw_soon), plus
// the collector bookkeeping below.
#pragma once

#include <Python.h>

#include "core/task/fiber.hpp"
#include "core/task/greenlet_api.hpp"

namespace tf::core {

struct Task {
  static bool is_fiber(PyObject* task) { return fiber::check(task); }
  static bool is_dead(PyObject* task) { return is_fiber(task) ? fiber::is_dead(task) : greenlet::is_dead(task); }

  // Queued to start: until it runs, a new greenlet is kept alive by the
  // ready queue and cannot be garbage, so the cycle collector need not
  // traverse it (100,000 queued greenlets made every collection during a
  // burst slow).
  static void queued_before_start(PyObject* task) {
    if (!is_fiber(task) && !greenlet::is_started(task) && PyObject_GC_IsTracked(task)) PyObject_GC_UnTrack(task);
  }
  // About to run: from its start on, a greenlet may be part of cycles.
  static void about_to_start(PyObject* task) {
    if (!is_fiber(task) && !greenlet::is_started(task) && !PyObject_GC_IsTracked(task)) PyObject_GC_Track(task);
  }
};

}  // namespace tf::core
