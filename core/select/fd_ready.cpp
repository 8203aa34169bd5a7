#include "core/select/fd_ready.hpp"

#include <poll.h>

#include "core/task/green_hub.hpp"

namespace tf::core {

bool fd_ready_now(int fd, short mask) {
  pollfd p{fd, mask, 0};
  return ::poll(&p, 1, 0) != 0;  // ready, or an error the caller's syscall reports
}

FdReadiness wait_fd_ready(int fd, short mask, double timeout) {
  return fd_ready_now(fd, mask) ? FdReadiness::kReady : wait_fd_on_hub(fd, mask, timeout);
}

FdReadiness wait_fd_on_hub(int fd, short mask, double timeout) {
  int32_t revents = 0;
  switch (GreenHub::current()->wait_fd(fd, mask, timeout, &revents, /*file_key=*/0)) {
    case WaitStatus::kFailed:
      return FdReadiness::kFailed;
    case WaitStatus::kTimedOut:
      return FdReadiness::kTimedOut;
    case WaitStatus::kReady:
      break;
  }
  return FdReadiness::kReady;  // or -errno in revents: the caller's syscall reports it
}

}  // namespace tf::core
