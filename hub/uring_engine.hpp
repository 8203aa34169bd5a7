// The io_uring engine: every wait is an SQE (POLL_ADD, ACCEPT) submitted
// with the next io_uring_enter, which is also the loop's wait; a cancel is
// an ASYNC_CANCEL whose own completion is skipped. The fastest engine: no
// syscall per wait beyond the loop's one enter per turn.
#pragma once

#include <memory>

#include "hub/engine.hpp"
#include "hub/ring.hpp"

namespace tf::hub {

class UringEngine final : public Engine {
 public:
  // nullptr with *error = errno when the kernel refuses a ring.
  static std::unique_ptr<UringEngine> make(unsigned entries, int* error);

  const char* name() const override { return "io_uring"; }
  int watch(int fd, uint64_t tag) override;
  void start_poll(uint64_t name, Operation& op, uint32_t mask) override;
  void start_accept(uint64_t name, Operation& op, int flags) override;
  bool cancel(uint64_t name, Operation& op) override;
  bool has_pending() const override { return false; }
  bool level_triggered() const override { return true; }
  WaitResult wait(std::chrono::nanoseconds timeout) override;
  void drain(CompletionSink& sink) override;

  Ring& ring() { return *ring_; }

 private:
  explicit UringEngine(std::unique_ptr<Ring> ring) : ring_(std::move(ring)) {}
  // An SQE, or nullptr after the operation `name` was completed with the
  // kernel's refusal (-errno).
  io_uring_sqe* sqe_for(uint64_t name);

  // Tags (user_data with a zero low half) of the engine's own SQEs.
  static constexpr uint64_t kTagCancel = uint64_t{3} << 32;

  std::unique_ptr<Ring> ring_;
  uint64_t watch_tag_ = 0;
  int watch_fd_ = -1;
  // Kernels before 5.13 refuse multishot polls: the watch is re-armed
  // after each readiness instead.
  bool watch_multishot_ = true;
};

}  // namespace tf::hub
