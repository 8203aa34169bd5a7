// The hub's event loop without Python: ring + operation slots + timers +
// cross-thread wake-ups. It never runs user code itself: run_once() collects
// what became ready and reports it through Loop::Events; the layer above
// decides whom to resume, after run_once() has returned.
#pragma once

#include <chrono>
#include <memory>
#include <cstdint>

#include "hub/op_table.hpp"
#include "hub/ring.hpp"
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

  explicit Loop(unsigned entries = 256);
  ~Loop();
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  // Starts a one-shot POLL_ADD; returns the operation's name (its user_data).
  uint64_t start_poll(int fd, uint32_t poll_mask, uint64_t owner);
  // Starts an ACCEPT whose peer address lands in the slot (op.kernel.address).
  uint64_t start_accept(int fd, int accept_flags, uint64_t owner);
  // Starts an operation prepared by `prep(sqe, op)`; the slot owns whatever
  // memory prep points the kernel at.
  template <class Prep>
  uint64_t start(uint64_t owner, Prep&& prep);
  // The waiter gives up: the operation is cancelled in the kernel and its
  // slot is freed when the last CQE arrives. Stale names are ignored.
  void abandon(uint64_t op_name);

  TimerId add_timer(Clock::time_point deadline, uint64_t token) { return timers_.add(deadline, token); }
  bool cancel_timer(TimerId id) { return timers_.cancel(id); }

  // Thread-safe: queue `item` for the loop's thread and wake the loop.
  void post(WakeupItem item) { wakeups_.post(item); }

  // One turn: submit, wait (at most until the next timer when may_block,
  // not at all otherwise), dispatch completions, expire timers.
  void run_once(bool may_block, Events& events);

  size_t ops_in_flight() const { return ops_.in_use(); }
  size_t timers_pending() const { return timers_.size(); }
  // The ring, set up on first use: a program that never waits (a short
  // script, a child that lists its fds) never opens it, nor the eventfd.
  Ring& ring();
  bool has_ring() const { return ring_ != nullptr; }

  // user_data values that name no slot (low half zero).
  static constexpr uint64_t kTagWakeup = uint64_t{1} << 32;
  static constexpr uint64_t kTagCancel = uint64_t{3} << 32;

 private:
  void arm_watch(int fd, uint64_t tag);
  void dispatch(const Completion& c, Events& events);

  unsigned entries_;
  std::unique_ptr<Ring> ring_;
  OpTable ops_;
  TimerHeap timers_;
  WakeupQueue wakeups_;
};

template <class Prep>
uint64_t Loop::start(uint64_t owner, Prep&& prep) {
  OpTable::Slot& slot = ops_.acquire(owner);
  io_uring_sqe* sqe = ring().get_sqe();
  prep(sqe, slot.value);
  io_uring_sqe_set_data64(sqe, slot.name());
  return slot.name();
}

}  // namespace tf::hub
