// Waiting for an fd that has no owner telling the hub before it closes it
// (a pipe, a tty, an epoll fd): poll(2) with a zero timeout first, so what
// is ready already costs one syscall and no turn of the hub; otherwise a
// hub wait with file_key 0 (the engine asks the kernel afresh each time).
#pragma once

#include <Python.h>

namespace tf::core {

enum class FdReadiness { kReady, kTimedOut, kFailed /* exception set */ };

// True when poll(2) reports anything for `mask` now (or the fd is bad:
// the caller's own syscall then reports that).
bool fd_ready_now(int fd, short mask);

// Waits on the running hub (call only when GreenHub::cooperative_here())
// until `fd` is ready for `mask`; timeout < 0: no limit.
FdReadiness wait_fd_ready(int fd, short mask, double timeout);

// The same without asking poll(2) first: for callers that have just seen
// the fd not ready (their own zero-timeout call said so).
FdReadiness wait_fd_on_hub(int fd, short mask, double timeout);

}  // namespace tf::core
