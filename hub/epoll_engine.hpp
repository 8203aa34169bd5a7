// The epoll engine: for the places that refuse io_uring (container seccomp
// profiles, kernel.io_uring_disabled, old kernels). Same operations, same
// results as the ring; the loop cannot tell them apart.
//
// How a wait stays cheap: an fd is registered once, edge-triggered, for
// every event (EPOLLIN|EPOLLOUT|EPOLLPRI|EPOLLRDHUP|EPOLLET), and the
// registration is kept across waits. The engine keeps, per fd, the list of
// operations waiting on it and the edges seen since its owner last found
// it not ready ("cached"). So a socket's wait costs no syscall at all: only
// the loop's epoll_wait per turn, as the ring costs only its enter.
//
// Why that is safe: callers wait only after they found the fd not ready
// (EAGAIN), with no turn of the loop in between, so every edge that came
// after is still in the kernel's ready list and wakes them; the wait
// clears what was cached. An edge is cached until then, so an owner may
// ask known_not_ready() and wait without a failed try when nothing came.
// What is not safe is trusting a registration after its fd was closed and
// the number reused for another file: epoll drops the old registration
// silently. So a registration is trusted across waits only for callers
// that name the fd's owner (Operation::file_key: a number a socket object
// gets with its fd) and tell the engine before they close it (forget_fd); a
// wait with file_key 0 (a pipe, a pidfd, select() on any fd) re-registers
// with EPOLL_CTL_MOD (ADD when the kernel no longer knows the fd), one
// syscall, which also makes the kernel report the fd's current readiness
// afresh, so such a wait need not follow an EAGAIN.
//
// Accepts: the engine calls accept4 itself when the listener is readable,
// with the listener briefly non-blocking if its owner keeps it blocking,
// so a connection taken by someone else first never blocks the hub.
#pragma once

#include <sys/epoll.h>

#include <memory>
#include <vector>

#include "hub/engine.hpp"

namespace tf::hub {

class EpollEngine final : public Engine {
 public:
  // nullptr with *error = errno (EMFILE, ENOMEM). `ops` is the loop's table,
  // where the engine finds the operations it was given by name.
  static std::unique_ptr<EpollEngine> make(OpTable& ops, int* error);
  ~EpollEngine() override;

  const char* name() const override { return "epoll"; }
  int watch(int fd, uint64_t tag) override;
  void start_poll(uint64_t name, Operation& op, uint32_t mask) override;
  void start_accept(uint64_t name, Operation& op, int flags) override;
  bool cancel(uint64_t name, Operation& op) override;
  void forget_fd(int fd) override;
  bool has_pending() const override { return !ready_.empty(); }
  bool level_triggered() const override { return false; }
  bool known_not_ready(int fd, uint32_t mask, uint64_t file_key) const override;
  void note_not_ready(int fd, uint32_t mask, uint64_t file_key) override;
  WaitResult wait(std::chrono::nanoseconds timeout) override;
  void drain(CompletionSink& sink) override;

  // For tests: epoll_ctl calls made so far.
  unsigned long registrations() const { return registrations_; }

 private:
  struct FdRecord {
    uint64_t first_op = 0;  // the operations waiting on the fd, through Operation::next_on_fd
    uint64_t file_key = 0;  // the owner whose registration is trusted; 0: none is
    uint32_t cached = 0;    // edges since the owner last found the fd not ready
    bool registered = false;
  };

  EpollEngine(OpTable& ops, int epfd);
  FdRecord* record(int fd);
  // Registers fd (MOD, or ADD when the kernel does not know it); 0 or errno.
  int register_fd(int fd, FdRecord& r, uint64_t file_key);
  // The fd's record, registered if it is not trusted; nullptr when the wait
  // has completed at once (-errno, or a file epoll cannot watch, always
  // ready).
  FdRecord* begin_wait(uint64_t name, Operation& op, uint32_t mask);
  const FdRecord* trusted(int fd, uint64_t file_key) const;
  void queue(uint64_t name, Operation& op, FdRecord& r);
  void complete(uint64_t name, int32_t res);
  // accept4 without blocking: the new fd, -EAGAIN, or another -errno.
  static int32_t accept_now(Operation& op, int flags);
  void on_ready(int fd, uint32_t events);

  OpTable& ops_;
  int epfd_;
  std::vector<FdRecord> fds_;
  std::vector<Completion> ready_;     // completions known without the kernel
  std::vector<Completion> handing_;  // drain()'s batch (kept for its capacity)
  std::vector<epoll_event> events_;
  int ready_events_ = 0;  // how many of events_ the last wait filled
  int watch_fd_ = -1;
  uint64_t watch_tag_ = 0;
  bool have_pwait2_ = true;  // epoll_pwait2 (5.11): a wait's timeout to the nanosecond
  unsigned long registrations_ = 0;
};

}  // namespace tf::hub
