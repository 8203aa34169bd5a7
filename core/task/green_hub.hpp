// GreenHub: one hub per OS thread, driving its tasks over hub::Loop. A
// task is a greenlet (the program, tf.spawn's Greenlets) or a fiber-thread
// (a started thread); the hub treats both alike except where one gets the
// CPU (resume(), switching.cpp) and where a wait switches away
// (finish_wait, waits.cpp).
//
// The hub runs on the greenlet that called run() (the root greenlet of the
// thread, for the launcher). Every task of the thread that waits registers
// a Waiter, switches to the hub and is resumed when the waiter fires. Who
// resumes whom is decided after Loop::run_once() returns (collect, then
// run), so no task is switched into from inside the loop's dispatch.
//
// A Waiter is named by a SlotPool name. Everything that may wake it (an
// operation's CQE, a timer, a wake() call) carries that name; only the
// first to arrive fires it, and the waiting task releases it when it
// resumes, so a late or raced wake-up finds a stale name and is dropped.
//
// The files: green_hub.cpp (lifetime, cross-thread posts, run and the
// loop's phases, loop events, signals, deadlock, fork), switching.cpp,
// waits.cpp, fiber_turns.cpp (fiber-threads on the shared stack),
// greenlet_bridge.cpp (a thread driving greenlets of its own).
#pragma once

#include <Python.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <unordered_map>
#include <vector>

#include <sys/socket.h>

#include "hub/loop.hpp"
#include "core/py_ref.hpp"
#include "hub/shared_stack.hpp"
#include "hub/slot_pool.hpp"

namespace tf::core {

// What ended a wait. kYielded: nothing did; the task only let the others
// run first (sleep(0), a thread start).
enum class Outcome : uint8_t { kNone, kOpDone, kTimer, kWoken, kThrown, kYielded };

struct PeerAddress {
  sockaddr_storage address;
  socklen_t length;
};

struct Waiter {
  bool fired = false;
  int fd = -1;  // the fd waited on, for close() to find us
  bool accepting = false;
  Outcome outcome = Outcome::kNone;
  int32_t result = 0;
  PyRef task;      // the greenlet or fiber-thread to resume
  PyRef value;     // what wake() passed, or the exception for kThrown
  uint64_t op = 0;
  // wait_any: (fd, poll op) for each further fd. Pointers keep the Waiter
  // small: there is one per parked greenlet.
  std::unique_ptr<std::vector<std::pair<int, uint64_t>>> more;
  hub::TimerId timer;
  // An accept's peer address, copied out of the op slot on completion.
  std::unique_ptr<PeerAddress> peer;
};

// A connection accepted by an operation whose waiter had given up: kept for
// the next accept() on the same listener, never dropped.
struct OrphanConnection {
  int fd;
  sockaddr_storage address;
  socklen_t address_len;
};

struct TimerCallback {
  PyRef fn;
  PyRef args;
  hub::TimerId timer;
};

// What a resumed waiter hands back to its wait primitive. Small: it sits
// in the frame of every parked thread (an accept's address is handed over
// through the hub, after the switch).
struct WaitResult {
  PyRef value;
  int32_t result = 0;
};

// Result of a wait primitive.
enum class WaitStatus { kReady, kTimedOut, kFailed /* Python exception set */ };

class GreenHub final : public hub::Loop::Events {
 public:
  // This thread's hub, or nullptr.
  static GreenHub* current();
  // This thread's hub, created on first use.
  static GreenHub& for_this_thread();

  // True when called from a greenlet that this thread's hub drives:
  // the cooperative path may be taken. One thread-local load.
  static bool cooperative_here() {
    GreenHub* h = current();
    return h && h->running_ && !h->in_hub_;
  }

  // Runs `callable()` in a new greenlet whose parent is the calling greenlet,
  // which becomes the hub until that greenlet finishes. Returns its result.
  PyRef run(PyObject* callable);
  // For the interactive prompt: the calling greenlet (the thread's root,
  // where python3's REPL must run: exit() ends the process from there)
  // stays the program, and the hub runs beside it in a greenlet of its
  // own, so threads and greenlets keep running while the prompt waits for
  // input (prompt_input.cpp) and tf.spawn() works at the prompt. Returns
  // once the hub has started; false with an exception set.
  bool run_beside();
  // run_beside()'s greenlet: the loop, for as long as the process lives.
  static PyObject* loop_beside(PyObject*, PyObject*);
  bool running() const { return running_; }
  PyObject* hub_greenlet() const { return hub_greenlet_.get(); }
  PyObject* main_greenlet() const { return main_.get(); }
  // The fiber-thread the running code belongs to (borrowed), or nullptr in
  // a greenlet or the hub.
  PyObject* fiber_here() const;
  // The same, for a caller that has greenlet.getcurrent() at hand.
  PyObject* fiber_for(PyObject* current_greenlet) const;
  // What a wait here would park: the running fiber-thread, else the
  // current greenlet.
  PyRef current_task() const;
  // For a new fiber's entry (thread_fiber_main): the fiber, and what was
  // thrown into it before it started (borrowed; may be null).
  PyObject* starting_fiber(PyObject** thrown);
  // At a fiber's end: back to the hub for good.
  [[noreturn]] void exit_fiber();
  // In a fiber: greenlet's `method` (switch or throw) on `target`, called by
  // the hub from its own greenlet while the fiber is parked; the fiber gets
  // what comes back to the hub greenlet (a return, the greenlet's end, an
  // exception, or a switch to the hub greenlet), as the caller of switch()
  // would under greenlet. A wait in between parks only the greenlet.
  PyObject* call_greenlet_for_fiber(PyObject* method, PyObject* target, PyObject* args, PyObject* kwargs);

  // ---- wait primitives: call only when cooperative_here() ----
  // Waits until `fd` reports one of `poll_mask`; *revents gets the result
  // (negative errno from the kernel on failure). timeout < 0: no limit.
  // `file_key` names the fd's owner (its socket object) when that owner
  // calls fd_closing() before closing it: the engine may then keep what it
  // learnt of the fd across waits (hub::Loop::start_poll). 0: unknown.
  WaitStatus wait_fd(int fd, uint32_t poll_mask, double timeout, int32_t* revents, uint64_t file_key = 0);
  // Waits until any of the fds reports one of its events (select, poll):
  // one poll per fd, all owned by one waiter; the first completion wakes it
  // and the rest are cancelled. `publish(ctx, name)`, if given, runs before
  // switching away, so that a wake(name) (a registration changed while a
  // thread waits in a shared poll object) ends the wait too.
  WaitStatus wait_any(const std::vector<std::pair<int, uint32_t>>& fds, double timeout,
                      void (*publish)(void* ctx, uint64_t name) = nullptr, void* ctx = nullptr);
  // Adds `fd` to what the wait `waiter` (a wait_any's, not yet woken)
  // watches: a registration made in a shared poll object while a thread
  // waits in it, at the cost of one poll, not a new wait on every fd.
  // False if that wait is over (or woken) already.
  bool watch_also(uint64_t waiter, int fd, uint32_t poll_mask);
  // Accepts through the ring (for listeners in blocking mode, where a
  // non-blocking try is impossible). *result: new fd or -errno.
  WaitStatus wait_accept(int fd, int accept_flags, double timeout, int32_t* result,
                         sockaddr_storage* address, socklen_t* address_len, uint64_t file_key = 0);
  // A connection orphaned on this listener, if any.
  bool take_orphan(int listener_fd, OrphanConnection* out);
  // Before `fd` is closed: every greenlet waiting on it is woken with
  // `exception` and its operation cancelled; orphans accepted on it are
  // closed; the engine forgets the fd.
  void fd_closing(int fd, PyObject* exception);
  // "io_uring" or "epoll": the engine this hub's loop uses, made now if it
  // is not yet. nullptr with OSError set when it cannot be made.
  const char* backend_name();
  WaitStatus sleep(double seconds);
  // Starts `fiber` (a new fiber-thread) before anything else runs; the
  // caller resumes in its turn, as after sleep(0). Thread.start() returns
  // once the new thread runs, so running it first spares a wake-up round
  // trip.
  WaitStatus run_first(PyObject* fiber);
  // Yields (sleep(0)) when the current greenlet has run for longer than
  // the switch interval since it was last resumed: python3's threads are
  // preempted every sys.getswitchinterval(); a greenlet that always finds
  // its I/O ready must not starve the others either.
  WaitStatus yield_if_due();
  // Parks the current greenlet until wake(name, value) or the timeout.
  // `publish(ctx, name)` runs before switching away so the caller can record
  // the waiter's name where wakers find it.
  WaitStatus park(double timeout, PyRef* value_out, void (*publish)(void* ctx, uint64_t name),
                  void* ctx);

  // ---- waking and scheduling (hub thread) ----
  bool wake(uint64_t waiter, PyObject* value);
  bool wake_with_exception(uint64_t waiter, PyObject* exception);
  void schedule_switch(PyObject* greenlet, PyObject* args);  // start or resume
  void schedule_throw(PyObject* greenlet, PyObject* exception);
  // From the hub (a timer callback): throw at once, so nothing the greenlet
  // does in between can outrun the exception. Elsewhere: schedule_throw.
  void throw_soon(PyObject* greenlet, PyObject* exception);
  static void count_pool_threads(long delta);
  void schedule_call(PyObject* fn, PyObject* args);
  uint64_t call_later(double delay, PyObject* fn, PyObject* args);
  bool cancel_call(uint64_t handle);

  // ---- from any thread (GIL held) ----
  void call_soon_threadsafe(PyObject* fn, PyObject* args);
  void wake_threadsafe(uint64_t waiter, PyObject* value);
  // The same, for the hub named `serial`, which may belong to a thread that
  // is ending (its hub is then freed): false when there is no such hub.
  static bool call_soon_threadsafe(uint64_t serial, PyObject* fn, PyObject* args);
  static bool wake_threadsafe(uint64_t serial, uint64_t waiter, PyObject* value);

  // Work that will wake someone although no op or timer shows it (a job on
  // a real OS thread). Deadlock detection counts these.
  void hold() { ++holds_; }
  void unhold() { --holds_; }

  void after_fork_in_child();

  // hub::Loop::Events
  void on_op_done(uint64_t owner, int32_t res, uint32_t flags, const hub::Operation& op) override;
  void on_orphan(int32_t res, const hub::Operation& op) override;
  void on_timer(uint64_t token) override;
  void on_interrupted() override;
  void before_blocking() override;
  void after_blocking() override;

  hub::Loop& loop() { return *loop_; }
  // A number naming this hub for other threads. A hub lives as long as its
  // thread (the main thread's, as long as the process): a number names no
  // hub once its thread has ended.
  uint64_t serial() const { return serial_; }
  // When the OS thread that made this hub ends (its Python thread state is
  // cleared, GIL held): the engine's fds close and, if nothing is parked on
  // it, the hub is freed. Not for the process's main thread.
  void at_thread_end();

 private:
  struct Ready {
    enum class Kind : uint8_t { kWaiter, kSwitch, kThrow, kCall } kind;
    uint64_t waiter = 0;
    PyRef target;  // greenlet or callable
    PyRef arg;     // args tuple or exception
  };
  using WaiterSlot = hub::SlotPool<Waiter>::Slot;

  GreenHub();
  ~GreenHub() override;
  bool watch_thread_end();
  // The loop's engine is made on the first wait that needs it; false with
  // OSError set when it cannot be (EMFILE, ENOMEM, a refused forced ring).
  bool loop_ready() { return loop_->has_engine() || prepare_loop(); }
  bool prepare_loop();
  WaiterSlot& begin_wait();
  // Switches to the hub; on return the waiter is released and its outcome
  // reported. kFailed: an exception was thrown into us (op cancelled).
  WaitStatus finish_wait(uint64_t name, WaitResult* out);
  [[gnu::noinline]] WaitStatus collect_wait(uint64_t name, bool resumed, WaitResult* out);
  void track_fd(int fd, uint64_t name);
  void untrack_fd(int fd, uint64_t name);
  bool fire(uint64_t name, Outcome outcome, int32_t result, PyObject* value);
  void run_ready();
  // Gives `task` the CPU: switched to with `args`, or with `exception`
  // thrown in (switching.cpp).
  void resume(PyObject* task, PyObject* args, PyObject* exception);
  void after_switch_back(PyObject* greenlet, PyRef result);
  // Fiber-threads: the hub starts or resumes one (with `exception` thrown
  // in, if not null) and gets control back when it parks or ends.
  void resume_fiber(PyObject* fiber, PyObject* exception);
  // In a fiber: parks it; false with an exception set if one was thrown in.
  // Inlined into the wait primitives: one frame less to copy.
  [[gnu::always_inline]] inline bool suspend_fiber();
  void start_fibers_asked_for();  // what run_first() left to start
  bool end_wait_with(uint64_t waiter, PyObject* task, PyObject* exception);
  void run_greenlet_call();
  // After a greenlet switch into `greenlet` came back: true if what came
  // back belonged to a fiber (see call_greenlet_for_fiber) and went to it.
  bool hand_back_to_fiber(PyObject* greenlet, PyRef& result);
  void report_child_error(PyObject* context, const char* header);
  void deliver_signal_error();
  bool deadlocked();
  // The fibers' stack region for a hub whose loop runs at `here`; false
  // with an exception set when threads parked deeper than that.
  bool place_fibers(char* here);

  uint64_t serial_;
  std::unique_ptr<hub::Loop> loop_;
  hub::SlotPool<Waiter> waiters_;
  hub::SlotPool<TimerCallback> callbacks_;
  std::deque<Ready> ready_;
  // The waits parked on one fd (failed when it is closed). One per fd is
  // the rule, so the first is inline: tracking it touches no second
  // allocation (with thousands of connections that was a cache miss per
  // message).
  struct FdWaiters {
    uint64_t first = 0;  // 0: none (a waiter's name is never 0)
    std::vector<uint64_t> more;
  };
  std::vector<FdWaiters> fd_waiters_;  // indexed by fd
  std::unordered_map<int, std::deque<OrphanConnection>> orphans_;
  PyRef hub_greenlet_;
  PyRef main_;  // the greenlet run() started
  PyRef main_result_;
  SavedError main_error_;
  int64_t resumed_at_ = 0;  // switch_clock_ns() when the current greenlet got control
  // The main greenlet's latest waiter (throw_soon ends that wait).
  uint64_t main_waiter_ = 0;
  // Where fiber-threads take turns: below the frames of run().
  std::unique_ptr<hub::SharedStack> fibers_;
  PyRef running_fiber_;
  PyRef fiber_to_start_;                 // run_first()'s, for the hub to start next
  PyObject* fiber_exception_ = nullptr;  // borrowed: what resume_fiber() throws in
  long parked_fibers_ = 0;
  // A fiber's greenlet call, for the hub to make once the fiber is parked.
  struct GreenletCall {
    PyRef method, target, args, kwargs, fiber;
    uint64_t waiter;
  };
  std::unique_ptr<GreenletCall> greenlet_call_;
  // Greenlets parked on behalf of a fiber's greenlet call: when one comes
  // back to the hub without parking, the fiber (by its waiter) gets it.
  struct FiberWaiting {
    PyRef fiber;
    uint64_t waiter;
  };
  std::unordered_map<PyObject*, FiberWaiting> fiber_greenlets_;
  PyObject* parked_greenlet_ = nullptr;         // set by a greenlet's wait just before it switches to the hub
  std::unique_ptr<PeerAddress> accepted_peer_;  // collect_wait's, for wait_accept to copy out
  bool running_ = false;
  bool in_hub_ = false;
  long holds_ = 0;
  PyThreadState* saved_thread_ = nullptr;
};

// The module's exception raised when nothing can ever wake the target.
extern PyObject* DeadlockError;

}  // namespace tf::core
