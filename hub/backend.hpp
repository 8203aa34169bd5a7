// Which engine a new loop gets. io_uring when the kernel lets us make a
// ring; epoll when io_uring_setup is refused for any reason (ENOSYS: an old
// kernel or a seccomp profile; EPERM/EACCES: kernel.io_uring_disabled or
// a profile; ENOMEM: a locked-memory limit; EINVAL: the flags we need). A
// refusal is remembered for the process, so later loops (other threads,
// children after fork) go straight to epoll. A preference may force either.
#pragma once

#include <memory>

#include "hub/engine.hpp"

namespace tf::hub {

enum class Backend { kAuto, kIoUring, kEpoll };

// "io_uring", "epoll", or "auto".
const char* backend_name(Backend b);
// Parses a preference: "io_uring", "epoll", or "" / "auto". False for
// anything else.
bool parse_backend(const char* text, Backend* out);

// The process-wide preference (kAuto unless set).
void set_backend_preference(Backend b);
Backend backend_preference();

// The engine a loop made now would use: kIoUring or kEpoll. Decides, with a
// throw-away ring, when no loop has decided yet. 0, or the errno of a ring
// a forced io_uring preference could not make.
int resolve_backend(Backend* out);

// A new engine for a loop: `wanted`, or the process preference for kAuto.
// nullptr with *error = errno when none can be made.
std::unique_ptr<Engine> make_engine(Backend wanted, unsigned entries, OpTable& ops, int* error);

}  // namespace tf::hub
