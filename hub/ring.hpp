// The io_uring ring of one hub: set-up with the fastest flags the kernel
// accepts, SQE allocation that never fails, and waiting with a deadline.
//
// Ownership: a Ring belongs to the thread that created it. With
// IORING_SETUP_SINGLE_ISSUER only that thread may submit; with
// DEFER_TASKRUN completions appear only when that thread enters the kernel.
#pragma once

#include <liburing.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include "hub/engine.hpp"

namespace tf::hub {

class Ring {
 public:
  // A ring, or nullptr with *error = errno (ENOSYS, EPERM, ENOMEM, EMFILE,
  // ...): the kernel or a seccomp filter may refuse io_uring.
  static std::unique_ptr<Ring> make(unsigned entries, int* error);
  ~Ring();
  Ring(const Ring&) = delete;
  Ring& operator=(const Ring&) = delete;

  // A free SQE. When the submission queue is full, what is queued is
  // submitted first. nullptr only if the kernel refuses to take what is
  // queued (see last_error()).
  io_uring_sqe* get_sqe();

  // Submits what is queued and waits until at least one completion is
  // available or `timeout` passes (negative: wait forever; zero: do not wait).
  // A signal makes it return kInterrupted so the caller can run handlers;
  // kFailed leaves the errno in last_error().
  WaitResult submit_and_wait(std::chrono::nanoseconds timeout);

  // A completion made up by the caller (an operation that could not be
  // submitted), handed out by the next drain.
  void add_completion(const Completion& c) { parked_.push_back(c); }
  int last_error() const { return last_error_; }

  // Hands every available completion to `on_cqe`, in order, then marks them
  // seen. Completions parked while the SQ was being flushed come first.
  template <class F>
  unsigned drain(F&& on_cqe);

  bool uses_deferred_taskrun() const { return setup_flags_ & IORING_SETUP_DEFER_TASKRUN; }
  unsigned setup_flags() const { return setup_flags_; }
  unsigned sq_entries() const { return ring_.sq.ring_entries; }
  int fd() const { return ring_.ring_fd; }
  unsigned queued() const { return io_uring_sq_ready(&ring_); }

 private:
  Ring() = default;
  // False with last_error_ set when the kernel refuses the submission.
  bool flush_submissions();
  void park_completions();

  io_uring ring_{};
  bool initialised_ = false;
  unsigned setup_flags_ = 0;
  int last_error_ = 0;
  std::vector<Completion> parked_;
};

template <class F>
unsigned Ring::drain(F&& on_cqe) {
  unsigned n = 0;
  if (!parked_.empty()) {
    std::vector<Completion> parked;
    parked.swap(parked_);
    for (const Completion& c : parked) {
      on_cqe(c);
      ++n;
    }
  }
  io_uring_cqe* cqe;
  unsigned head;
  unsigned seen = 0;
  io_uring_for_each_cqe(&ring_, head, cqe) {
    Completion c{cqe->user_data, cqe->res, cqe->flags};
    ++seen;
    // Advance before the callback: it may submit, and a re-entrant drain
    // must not see this CQE twice.
    io_uring_cq_advance(&ring_, 1);
    on_cqe(c);
    ++n;
  }
  (void)seen;
  return n;
}

}  // namespace tf::hub
