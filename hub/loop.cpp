#include "hub/loop.hpp"

#include <poll.h>

namespace tf::hub {

Loop::Loop(unsigned entries) : entries_(entries) {}

Ring& Loop::ring() {
  if (!ring_) {
    ring_ = std::make_unique<Ring>(entries_);
    arm_watch(wakeups_.eventfd(), kTagWakeup);
  }
  return *ring_;
}

Loop::~Loop() = default;

void Loop::arm_watch(int fd, uint64_t tag) {
  io_uring_sqe* sqe = ring().get_sqe();
  io_uring_prep_poll_multishot(sqe, fd, POLLIN);
  io_uring_sqe_set_data64(sqe, tag);
}

uint64_t Loop::start_poll(int fd, uint32_t poll_mask, uint64_t owner) {
  return start(owner, [&](io_uring_sqe* sqe, Operation& op) {
    op.kind = OpKind::kPoll;
    op.fd = fd;
    io_uring_prep_poll_add(sqe, fd, poll_mask);
  });
}

uint64_t Loop::start_accept(int fd, int accept_flags, uint64_t owner) {
  return start(owner, [&](io_uring_sqe* sqe, Operation& op) {
    op.kind = OpKind::kAccept;
    op.fd = fd;
    op.address_len = sizeof op.kernel.address;
    io_uring_prep_accept(sqe, fd, reinterpret_cast<sockaddr*>(&op.kernel.address), &op.address_len,
                         accept_flags);
  });
}

void Loop::abandon(uint64_t op_name) {
  OpTable::Slot* slot = ops_.find(op_name);
  if (!slot || slot->value.state != OpState::kInFlight) return;
  slot->value.state = OpState::kAbandoned;
  slot->value.owner = 0;
  io_uring_sqe* sqe = ring().get_sqe();
  io_uring_prep_cancel64(sqe, op_name, 0);
  io_uring_sqe_set_data64(sqe, kTagCancel);
  // The cancel's own success CQE carries nothing we need.
  sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
}

void Loop::dispatch(const Completion& c, Events& events) {
  switch (c.user_data) {
    case kTagWakeup:
      if (!(c.flags & IORING_CQE_F_MORE)) arm_watch(wakeups_.eventfd(), kTagWakeup);
      for (const WakeupItem& item : wakeups_.take_all()) events.on_wakeup(item);
      return;
    case kTagCancel:
      return;
    default:
      break;
  }
  OpTable::Slot* slot = ops_.find(c.user_data);
  if (!slot) return;  // a stale generation: its waiter is long gone
  Operation& op = slot->value;
  bool final_cqe = !(op.multishot && (c.flags & IORING_CQE_F_MORE));
  if (final_cqe && op.cqes_expected > 0) --op.cqes_expected;
  if (op.state == OpState::kInFlight && op.owner != 0) {
    events.on_op_done(op.owner, c.res, c.flags, op);
  } else if (op.state == OpState::kAbandoned && c.res >= 0 && op.kind == OpKind::kAccept) {
    events.on_orphan(c.res, op);
  }
  if (op.cqes_expected == 0) ops_.release(*slot);
}

void Loop::run_once(bool may_block, Events& events) {
  // Phase 1: how long may we sleep?
  std::chrono::nanoseconds timeout{0};
  if (may_block) {
    if (auto deadline = timers_.next_deadline()) {
      timeout = std::max(std::chrono::nanoseconds{0},
                         std::chrono::duration_cast<std::chrono::nanoseconds>(*deadline - Clock::now()));
    } else {
      timeout = std::chrono::nanoseconds{-1};
    }
  }
  // No ring yet and no reason to block: nothing can have completed.
  if (!ring_ && timeout.count() == 0) {
    if (timers_.size()) timers_.pop_expired(Clock::now(), [&](uint64_t token) { events.on_timer(token); });
    return;
  }
  // Phase 2: submit and wait.
  WaitResult waited;
  if (timeout.count() != 0) {
    struct BlockingScope {
      Events& e;
      explicit BlockingScope(Events& ev) : e(ev) { e.before_blocking(); }
      ~BlockingScope() { e.after_blocking(); }
    } scope(events);
    waited = ring().submit_and_wait(timeout);
  } else {
    waited = ring().submit_and_wait(timeout);
  }
  if (waited == WaitResult::kInterrupted) events.on_interrupted();
  // Phase 3: completions.
  ring_->drain([&](const Completion& c) { dispatch(c, events); });
  // Phase 4: timers.
  if (timers_.size()) timers_.pop_expired(Clock::now(), [&](uint64_t token) { events.on_timer(token); });
}

}  // namespace tf::hub
