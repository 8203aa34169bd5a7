#include "hub/ring.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "hub/high_fd.hpp"

namespace tf::hub {

namespace {

int init_with_fallback(io_uring* ring, unsigned entries, unsigned* flags_out) {
  // Measured on this machine kind: SINGLE_ISSUER|DEFER_TASKRUN saves ~25% of
  // the CPU per message against the default set-up. Older kernels reject
  // the flags with EINVAL; then fall back step by step.
  static const unsigned kAttempts[] = {
      IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_COOP_TASKRUN,
      IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
      IORING_SETUP_COOP_TASKRUN,
      0,
  };
  int rc = -EINVAL;
  for (unsigned flags : kAttempts) {
    io_uring_params params{};
    params.flags = flags | IORING_SETUP_CQSIZE;
    params.cq_entries = entries * 4;
    rc = io_uring_queue_init_params(entries, ring, &params);
    if (rc == 0) {
      *flags_out = flags;
      return 0;
    }
    if (rc != -EINVAL) break;
  }
  return rc;
}

}  // namespace

std::unique_ptr<Ring> Ring::make(unsigned entries, int* error) {
  std::unique_ptr<Ring> ring(new Ring());
  int rc = init_with_fallback(&ring->ring_, entries, &ring->setup_flags_);
  if (rc < 0) {
    *error = -rc;
    return nullptr;
  }
  ring->initialised_ = true;
  // Out of the way of the program's own fd numbers (python3 gives a
  // program's first file fd 3; so must we).
  int high = move_fd_high(ring->ring_.ring_fd);
  if (high != ring->ring_.ring_fd) ring->ring_.ring_fd = ring->ring_.enter_ring_fd = high;
  ring->parked_.reserve(64);
  return ring;
}

Ring::~Ring() {
  if (initialised_) io_uring_queue_exit(&ring_);
}

void Ring::park_completions() {
  io_uring_cqe* cqe;
  unsigned head;
  unsigned n = 0;
  io_uring_for_each_cqe(&ring_, head, cqe) {
    parked_.push_back(Completion{cqe->user_data, cqe->res, cqe->flags});
    ++n;
  }
  io_uring_cq_advance(&ring_, n);
}

bool Ring::flush_submissions() {
  for (int tries = 0;; ++tries) {
    int rc = io_uring_submit(&ring_);
    if (rc >= 0 || rc == -EINTR) return true;
    if ((rc == -EBUSY || rc == -EAGAIN) && tries < 1000) {
      // The completion queue is full: move completions aside (they are
      // dispatched by the next drain) and try again.
      if (uses_deferred_taskrun()) io_uring_get_events(&ring_);
      park_completions();
      continue;
    }
    last_error_ = -rc;
    return false;
  }
}

io_uring_sqe* Ring::get_sqe() {
  for (;;) {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
    if (sqe) return sqe;
    if (!flush_submissions()) return nullptr;
  }
}

WaitResult Ring::submit_and_wait(std::chrono::nanoseconds timeout) {
  io_uring_cqe* cqe = nullptr;
  int rc;
  if (timeout.count() == 0) {
    if (!flush_submissions()) return WaitResult::kFailed;
    if (uses_deferred_taskrun()) io_uring_get_events(&ring_);
    return io_uring_cq_ready(&ring_) || !parked_.empty() ? WaitResult::kReady
                                                          : WaitResult::kTimedOut;
  }
  if (!parked_.empty()) {
    return flush_submissions() ? WaitResult::kReady : WaitResult::kFailed;
  }
  if (timeout.count() < 0) {
    rc = io_uring_submit_and_wait(&ring_, 1);
  } else {
    // liburing's submit_and_wait_timeout waits twice when it also submitted
    // (the kernel returns the submit count after the first timeout), so
    // submit first, then wait once. The timespec is read during the call.
    if (io_uring_sq_ready(&ring_) && !flush_submissions()) return WaitResult::kFailed;
    __kernel_timespec ts{};
    ts.tv_sec = timeout.count() / 1'000'000'000;
    ts.tv_nsec = timeout.count() % 1'000'000'000;
    rc = io_uring_wait_cqe_timeout(&ring_, &cqe, &ts);
  }
  if (rc >= 0) {
    if (io_uring_cq_ready(&ring_)) return WaitResult::kReady;
    // The kernel returns the number submitted even when a signal cut the
    // wait short: a wake-up without a completion may be a signal.
    return timeout.count() < 0 ? WaitResult::kInterrupted : WaitResult::kTimedOut;
  }
  switch (-rc) {
    case ETIME:
      return io_uring_cq_ready(&ring_) ? WaitResult::kReady : WaitResult::kTimedOut;
    case EINTR:
      return WaitResult::kInterrupted;
    case EBUSY:
    case EAGAIN:
      park_completions();
      return WaitResult::kReady;
    default:
      last_error_ = -rc;
      return WaitResult::kFailed;
  }
}

}  // namespace tf::hub
