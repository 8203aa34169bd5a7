// The hub's own fds (a ring, an epoll instance, the wake-up eventfd) live
// high up, out of the way of the program's: python3 gives a program's first
// file fd 3, and so must we.
#pragma once

namespace tf::hub {

// Moves `fd` to a number of 900 or more, close-on-exec, and returns it (the
// same fd when a low RLIMIT_NOFILE leaves no room up there).
int move_fd_high(int fd);

}  // namespace tf::hub
