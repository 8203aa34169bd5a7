// io_uring's own tests skip, not fail, where this process may not make a
// ring: a container engine's default seccomp profile (Docker, podman) and
// kernel.io_uring_disabled refuse io_uring_setup. The epoll engine's tests
// still run there.
#pragma once

#include <gtest/gtest.h>

#include "hub/ring.hpp"

namespace tf::test {

inline bool io_uring_allowed() {
  static const bool allowed = [] {
    int error = 0;
    return tf::hub::Ring::make(2, &error) != nullptr;  // a throw-away ring: no process-wide choice made
  }();
  return allowed;
}

}  // namespace tf::test

#define SKIP_WHERE_IO_URING_IS_REFUSED()                                                  \
  if (!tf::test::io_uring_allowed())                                                       \
  GTEST_SKIP() << "io_uring_setup is refused here (a seccomp profile, or "                 \
                  "kernel.io_uring_disabled); the epoll engine's tests run instead"
