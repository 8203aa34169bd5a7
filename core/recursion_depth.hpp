// The recursion depth of a thread state, said as a depth. CPython 3.11
// keeps what is left of the limit (recursion_remaining); the hub moves
// threads and greenlets between depths (a program starts at 0 whatever
// called it, a fiber-thread keeps its own), so it thinks in depths.
#pragma once

#include <Python.h>

namespace tf::core::recursion {

inline int depth(const PyThreadState* ts) { return ts->recursion_limit - ts->recursion_remaining; }

inline void set_depth(PyThreadState* ts, int depth) { ts->recursion_remaining = ts->recursion_limit - depth; }

// Runs the thread at `depth` for the scope's life, then at the depth it had.
class DepthScope {
 public:
  DepthScope(PyThreadState* ts, int depth) : ts_(ts), saved_(recursion::depth(ts)) { set_depth(ts, depth); }
  ~DepthScope() { set_depth(ts_, saved_); }
  DepthScope(const DepthScope&) = delete;
  DepthScope& operator=(const DepthScope&) = delete;

 private:
  PyThreadState* ts_;
  int saved_;
};

}  // namespace tf::core::recursion
