#include "hub/loop.hpp"

#include <poll.h>

#include <cerrno>
#include <new>

namespace tf::hub {

// Hands the engine's completions to Loop::dispatch.
class Loop::Dispatcher final : public CompletionSink {
 public:
  Dispatcher(Loop& loop, Events& events) : loop_(loop), events_(events) {}
  void on_completion(const Completion& c) override { loop_.dispatch(c, events_); }

 private:
  Loop& loop_;
  Events& events_;
};

Loop::Loop(unsigned entries, Backend backend) : entries_(entries), backend_(backend) {}

Loop::~Loop() = default;

int Loop::prepare() {
  if (engine_) return 0;
  int error = 0;
  std::unique_ptr<Engine> engine = make_engine(backend_, entries_, ops_, &error);
  if (!engine) return -error;
  int efd = wakeups_.open();
  if (efd < 0) return efd;
  if (int rc = engine->watch(efd, kTagWakeup); rc < 0) return rc;
  engine_ = std::move(engine);
  return 0;
}

OpTable::Slot& Loop::new_op(OpKind kind, int fd, uint64_t owner, uint64_t file_key) {
  OpTable::Slot& slot = ops_.acquire(owner);
  slot.value.kind = kind;
  slot.value.fd = fd;
  slot.value.file_key = file_key;
  return slot;
}

uint64_t Loop::start_poll(int fd, uint32_t poll_mask, uint64_t owner, uint64_t file_key) {
  OpTable::Slot& slot = new_op(OpKind::kPoll, fd, owner, file_key);
  engine_->start_poll(slot.name(), slot.value, poll_mask);
  return slot.name();
}

uint64_t Loop::start_accept(int fd, int accept_flags, uint64_t owner, uint64_t file_key) {
  OpTable::Slot& slot = new_op(OpKind::kAccept, fd, owner, file_key);
  slot.value.accepted.reset(new (std::nothrow) AcceptAddress);
  engine_->start_accept(slot.name(), slot.value, accept_flags);
  return slot.name();
}

void Loop::abandon(uint64_t op_name) {
  OpTable::Slot* slot = ops_.find(op_name);
  if (!slot || slot->value.state != OpState::kInFlight) return;
  slot->value.state = OpState::kAbandoned;
  slot->value.owner = 0;
  if (engine_->cancel(op_name, slot->value)) ops_.release(*slot);
}

void Loop::dispatch(const Completion& c, Events& events) {
  if (c.user_data == kTagWakeup) {
    for (const WakeupItem& item : wakeups_.take_all()) events.on_wakeup(item);
    return;
  }
  OpTable::Slot* slot = ops_.find(c.user_data);
  if (!slot) return;  // a stale generation: its waiter is long gone
  Operation& op = slot->value;
  bool final_cqe = !(op.multishot && (c.flags & kCompletionMore));
  if (final_cqe && op.cqes_expected > 0) --op.cqes_expected;
  if (op.state == OpState::kInFlight && op.owner != 0) {
    events.on_op_done(op.owner, c.res, c.flags, op);
  } else if (op.state == OpState::kAbandoned && c.res >= 0 && op.kind == OpKind::kAccept) {
    events.on_orphan(c.res, op);
  }
  if (op.cqes_expected == 0) ops_.release(*slot);
}

int Loop::run_once(bool may_block, Events& events) {
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
  // No engine yet and no reason to block: nothing can have completed.
  if (!engine_ && timeout.count() == 0) {
    if (timers_.size()) timers_.pop_expired(Clock::now(), [&](uint64_t token) { events.on_timer(token); });
    return 0;
  }
  if (int rc = prepare(); rc < 0) return rc;
  if (engine_->has_pending()) timeout = std::chrono::nanoseconds{0};
  // Phase 2: submit and wait.
  WaitResult waited;
  if (timeout.count() != 0) {
    struct BlockingScope {
      Events& e;
      explicit BlockingScope(Events& ev) : e(ev) { e.before_blocking(); }
      ~BlockingScope() { e.after_blocking(); }
    } scope(events);
    waited = engine_->wait(timeout);
  } else {
    waited = engine_->wait(timeout);
  }
  if (waited == WaitResult::kFailed) return -engine_->last_error();
  if (waited == WaitResult::kInterrupted) events.on_interrupted();
  // Phase 3: completions.
  Dispatcher dispatcher(*this, events);
  engine_->drain(dispatcher);
  // Phase 4: timers.
  if (timers_.size()) timers_.pop_expired(Clock::now(), [&](uint64_t token) { events.on_timer(token); });
  return 0;
}

}  // namespace tf::hub
