#include "hub/high_fd.hpp"

#include <fcntl.h>
#include <unistd.h>

namespace tf::hub {

int move_fd_high(int fd) {
  constexpr int kHubFdFloor = 900;
  int high = ::fcntl(fd, F_DUPFD_CLOEXEC, kHubFdFloor);
  if (high < 0) return fd;
  ::close(fd);
  return high;
}

}  // namespace tf::hub
