#include "hub/uring_engine.hpp"

#include <poll.h>

#include <cerrno>

namespace tf::hub {

static_assert(kCompletionMore == IORING_CQE_F_MORE, "a ring's CQE flags pass through as they are");

std::unique_ptr<UringEngine> UringEngine::make(unsigned entries, int* error) {
  std::unique_ptr<Ring> ring = Ring::make(entries, error);
  if (!ring) return nullptr;
  return std::unique_ptr<UringEngine>(new UringEngine(std::move(ring)));
}

io_uring_sqe* UringEngine::sqe_for(uint64_t name) {
  io_uring_sqe* sqe = ring_->get_sqe();
  if (!sqe) ring_->add_completion(Completion{name, -ring_->last_error(), 0});
  return sqe;
}

int UringEngine::watch(int fd, uint64_t tag) {
  watch_fd_ = fd;
  watch_tag_ = tag;
  io_uring_sqe* sqe = ring_->get_sqe();
  if (!sqe) return -ring_->last_error();
  if (watch_multishot_) {
    io_uring_prep_poll_multishot(sqe, fd, POLLIN);
  } else {
    io_uring_prep_poll_add(sqe, fd, POLLIN);
  }
  io_uring_sqe_set_data64(sqe, tag);
  return 0;
}

void UringEngine::start_poll(uint64_t name, Operation& op, uint32_t mask) {
  io_uring_sqe* sqe = sqe_for(name);
  if (!sqe) return;
  io_uring_prep_poll_add(sqe, op.fd, mask);
  io_uring_sqe_set_data64(sqe, name);
}

void UringEngine::start_accept(uint64_t name, Operation& op, int flags) {
  io_uring_sqe* sqe = sqe_for(name);
  if (!sqe) return;
  io_uring_prep_accept(sqe, op.fd, op.accept_address(), op.accept_length(), flags);
  io_uring_sqe_set_data64(sqe, name);
}

bool UringEngine::cancel(uint64_t name, Operation&) {
  io_uring_sqe* sqe = ring_->get_sqe();
  if (!sqe) return false;  // the operation completes on its own, or with the fd's close
  io_uring_prep_cancel64(sqe, name, 0);
  io_uring_sqe_set_data64(sqe, kTagCancel);
  // The cancel's own success CQE carries nothing we need.
  sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
  return false;  // the operation's CQE (-ECANCELED or its result) is still to come
}

WaitResult UringEngine::wait(std::chrono::nanoseconds timeout) {
  WaitResult r = ring_->submit_and_wait(timeout);
  if (r == WaitResult::kFailed) last_error_ = ring_->last_error();
  return r;
}

void UringEngine::drain(CompletionSink& sink) {
  ring_->drain([&](const Completion& c) {
    if (c.user_data == kTagCancel) return;  // a cancel that failed: its target completes anyway
    if (c.user_data == watch_tag_ && watch_tag_ != 0) {
      if (c.res == -EINVAL && watch_multishot_) {
        watch_multishot_ = false;  // an old kernel: one-shot polls from now on
        watch(watch_fd_, watch_tag_);
        return;
      }
      if (!(c.flags & IORING_CQE_F_MORE)) watch(watch_fd_, watch_tag_);
      sink.on_completion(Completion{c.user_data, c.res, c.flags | kCompletionMore});
      return;
    }
    sink.on_completion(c);
  });
}

}  // namespace tf::hub
