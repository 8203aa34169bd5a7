// The hub's event loop without Python: an engine (io_uring or epoll, see
// backend.hpp) + operation slots + timers + cross-thread wake-ups. It never
// runs user code itself: run_once() collects what became ready and reports
// it through Loop::Events; the layer above decides whom to resume, after
// run_once() has returned.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

#include "hub/backend.hpp"
#include "hub/engine.hpp"
#include "hub/op_table.hpp"
#include "hub/timer_heap.hpp"
#include "hub/wakeup_queue.hpp"

namespace tf::hub {

class Loop {
 public:
  struct Events {
    virtual ~Events() = default;
    // A live operation completed; `owner` is what was passed when it began.
    // `op` (its slot, with any kernel-written memory) is valid during the call.
    virtual void on_op_done(uint64_t owner, int32_t res, uint32_t flags, const Operation& op) = 0;
    // An abandoned operation completed anyway with a result (e.g. an accept
    // whose waiter gave up got a connection): the resource must be kept.
    virtual void on_orphan(int32_t /*res*/, const Operation& /*op*/) {}
    virtual void on_timer(uint64_t token) = 0;
    virtual void on_wakeup(const WakeupItem& item) { item.run(item.arg); }
    // The wait was cut short by a signal delivered to this thread.
    virtual void on_interrupted() {}
    // Bracket a wait that may block (the Python layer releases the GIL).
    virtual void before_blocking() {}
    virtual void after_blocking() {}
  };

  // `backend`: kAuto takes the process's choice (backend.hpp).
  explicit Loop(unsigned entries = 256, Backend backend = Backend::kAuto);
  ~Loop();
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  // The engine and the wake-up eventfd are made on first use: a program
  // that never waits opens no fd of ours, so a child that lists its fds
  // sees python3's list. 0, or -errno when they cannot be made (EMFILE,
  // ENOMEM, a forced io_uring the kernel refuses). Every start_* needs it.
  int prepare();
  bool has_engine() const { return engine_ != nullptr; }
  // "io_uring" or "epoll"; nullptr before prepare().
  const char* engine_name() const { return engine_ ? engine_->name() : nullptr; }
  Engine* engine() { return engine_.get(); }

  // One readiness of `fd` for `poll_mask`; returns the operation's name (its
  // user_data). `file_key`: who owns the fd (e.g. its socket object), for an
  // owner that calls forget_fd() before closing it: engines may then keep
  // what they learnt of the fd across waits. 0: nothing is kept.
  // Wait only after finding the fd not ready (EAGAIN) with no turn of the
  // loop in between, unless level_triggered() or file_key is 0.
  uint64_t start_poll(int fd, uint32_t poll_mask, uint64_t owner, uint64_t file_key = 0);
  // Accepts a connection (the peer address lands in *op.accepted),
  // never blocking the thread, also on a listener in blocking mode.
  uint64_t start_accept(int fd, int accept_flags, uint64_t owner, uint64_t file_key = 0);
  // The waiter gives up: the operation is cancelled in the kernel and its
  // slot is freed when the last CQE arrives. Stale names are ignored.
  void abandon(uint64_t op_name);
  // `fd`'s owner is about to close it; its operations were abandoned.
  void forget_fd(int fd) {
    if (engine_) engine_->forget_fd(fd);
  }
  // See Engine: whether a wait may come before a try, and what the engine
  // knows of an owned fd's readiness without asking the kernel.
  bool level_triggered() const { return engine_ && engine_->level_triggered(); }
  bool known_not_ready(int fd, uint32_t mask, uint64_t file_key) const {
    return engine_ && engine_->known_not_ready(fd, mask, file_key);
  }
  void note_not_ready(int fd, uint32_t mask, uint64_t file_key) {
    if (engine_) engine_->note_not_ready(fd, mask, file_key);
  }

  TimerId add_timer(Clock::time_point deadline, uint64_t token) { return timers_.add(deadline, token); }
  bool cancel_timer(TimerId id) { return timers_.cancel(id); }

  // Thread-safe: queue `item` for the loop's thread and wake the loop.
  void post(WakeupItem item) { wakeups_.post(item); }

  // One turn: submit, wait (at most until the next timer when may_block,
  // not at all otherwise), dispatch completions, expire timers. 0, or
  // -errno when the engine cannot be made or the kernel refuses the wait.
  int run_once(bool may_block, Events& events);

  size_t ops_in_flight() const { return ops_.in_use(); }
  size_t timers_pending() const { return timers_.size(); }

  // user_data values that name no slot (low half zero).
  static constexpr uint64_t kTagWakeup = uint64_t{1} << 32;

 private:
  class Dispatcher;
  OpTable::Slot& new_op(OpKind kind, int fd, uint64_t owner, uint64_t file_key);
  void dispatch(const Completion& c, Events& events);

  unsigned entries_;
  Backend backend_;
  OpTable ops_;
  TimerHeap timers_;
  WakeupQueue wakeups_;
  std::unique_ptr<Engine> engine_;  // after ops_: it may refer to them
};

}  // namespace tf::hub
