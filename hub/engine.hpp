// The narrow interface through which a Loop asks the kernel to watch fds.
// Two engines implement it: io_uring (uring_engine.hpp), the fast one, and
// epoll (epoll_engine.hpp), for the places that refuse io_uring (container
// seccomp profiles, kernel.io_uring_disabled, old kernels). backend.hpp
// chooses between them.
//
// An engine knows nothing of owners or waiters: it is given operations by
// their slot name (Loop's OpTable) and reports each one's outcome exactly
// once, as a Completion carrying that name, from drain(). What an operation
// reports is the same on both engines: a poll's ready bits (or -errno), an
// accept's new fd (or -errno) with the peer address written into its slot.
// No engine throws; a failure is a result.
#pragma once

#include <chrono>
#include <cstdint>

#include "hub/op_table.hpp"

namespace tf::hub {

struct Completion {
  uint64_t user_data;
  int32_t res;
  uint32_t flags;
};

// Completion::flags: more completions will follow under the same name (a
// watch). The value is io_uring's IORING_CQE_F_MORE, so the ring's flags
// pass through unchanged.
constexpr uint32_t kCompletionMore = 1u << 1;

enum class WaitResult {
  kReady,        // completions are waiting for drain()
  kTimedOut,     // the timeout passed with nothing to report
  kInterrupted,  // a signal cut the wait short
  kFailed,       // the kernel refused the wait; see last_error()
};

class CompletionSink {
 public:
  virtual void on_completion(const Completion& c) = 0;

 protected:
  ~CompletionSink() = default;
};

class Engine {
 public:
  virtual ~Engine() = default;

  // "io_uring" or "epoll": what theframework.backend() reports.
  virtual const char* name() const = 0;

  // Reports every readiness of `fd` for reading as a completion named `tag`
  // with kCompletionMore, for as long as the engine lives (the wake-up
  // eventfd). The reader drains the fd itself. 0, or -errno.
  virtual int watch(int fd, uint64_t tag) = 0;

  // One readiness of op.fd for `mask` (POLLIN, POLLOUT, ...); completes with
  // the ready bits, which may include POLLERR/POLLHUP, or -errno. Callers
  // wait after they found the fd not ready (EAGAIN), with no turn of the
  // loop in between; a wait made without that knowledge is safe only on a
  // level-triggered engine, or for an fd whose file_key is 0.
  virtual void start_poll(uint64_t name, Operation& op, uint32_t mask) = 0;

  // accept4(op.fd, ..., flags) once a connection is there, on a listener
  // in blocking mode too, never blocking the thread; completes with the new
  // fd (the peer address in *op.accepted) or -errno.
  virtual void start_accept(uint64_t name, Operation& op, int flags) = 0;

  // The operation's waiter gave up. True: nothing will complete under its
  // name any more and its slot may be freed now. False: a completion is
  // still to come (the op's result, or -ECANCELED).
  virtual bool cancel(uint64_t name, Operation& op) = 0;

  // `fd` is about to be closed by its owner (no operation on it is left):
  // whatever the engine keeps for it goes, before the number is reused.
  virtual void forget_fd(int /*fd*/) {}

  // A wait for what is ready already completes at once (io_uring's
  // POLL_ADD), so a caller may wait before it tries.
  virtual bool level_triggered() const = 0;
  // True when the engine knows, without asking the kernel, that nothing in
  // `mask` has become ready on fd (owned by `file_key`) since its owner
  // last found it not ready: the owner may wait without trying first.
  // Engines that do not know say false.
  virtual bool known_not_ready(int /*fd*/, uint32_t /*mask*/, uint64_t /*file_key*/) const { return false; }
  // The owner found fd not ready for `mask` without waiting (a stream
  // socket's recv that got less than it asked for).
  virtual void note_not_ready(int /*fd*/, uint32_t /*mask*/, uint64_t /*file_key*/) {}

  // Completions are known without asking the kernel: the next wait must
  // not block.
  virtual bool has_pending() const = 0;

  // Submits what is queued and waits until something completes or `timeout`
  // passes (negative: no limit; zero: do not wait).
  virtual WaitResult wait(std::chrono::nanoseconds timeout) = 0;

  // Hands every available completion to `sink`, each exactly once.
  virtual void drain(CompletionSink& sink) = 0;

  // errno of the last kFailed wait.
  int last_error() const { return last_error_; }

 protected:
  int last_error_ = 0;
};

}  // namespace tf::hub
