// The hub's waits: a task registers a Waiter (named by its slot), starts
// what will fire it (an operation, a timer, or nothing: park()), switches
// away and, once resumed, collects the outcome and withdraws what did not
// fire it. finish_wait and the fiber's suspend are inlined into each wait
// primitive here: fewer frames to copy for every parked task.
#include "core/task/green_hub.hpp"
#include "core/task/hub_internal.hpp"
#include "core/task/fiber.hpp"
#include "core/task/greenlet_api.hpp"
#include "core/task/stack_chunks.hpp"

#include <unistd.h>

#include <utility>

namespace tf::core {

GreenHub::WaiterSlot& GreenHub::begin_wait() {
  WaiterSlot& w = waiters_.acquire();
  if (PyObject* fiber = fiber_here()) {
    w.value.task = PyRef::borrow(fiber);
    fiber::as(fiber)->waiter = w.name();
  } else {
    w.value.task = greenlet::current();
  }
  if (w.value.task.get() == main_.get()) main_waiter_ = w.name();
  return w;
}

void GreenHub::track_fd(int fd, uint64_t name) {
  if (fd < 0) return;
  if (static_cast<size_t>(fd) >= fd_waiters_.size()) fd_waiters_.resize(fd + 64);
  FdWaiters& w = fd_waiters_[fd];
  if (!w.first)
    w.first = name;
  else
    w.more.push_back(name);
}

void GreenHub::untrack_fd(int fd, uint64_t name) {
  if (fd < 0 || static_cast<size_t>(fd) >= fd_waiters_.size()) return;
  FdWaiters& w = fd_waiters_[fd];
  if (w.first == name) {
    if (w.more.empty()) {
      w.first = 0;
    } else {
      w.first = w.more.back();
      w.more.pop_back();
    }
    return;
  }
  for (size_t i = 0; i < w.more.size(); ++i) {
    if (w.more[i] == name) {
      w.more[i] = w.more.back();
      w.more.pop_back();
      return;
    }
  }
}

bool GreenHub::prepare_loop() {
  if (int rc = loop_->prepare(); rc < 0) {
    errno = -rc;
    PyErr_SetFromErrno(PyExc_OSError);
    return false;
  }
  return true;
}

const char* GreenHub::backend_name() { return loop_ready() ? loop_->engine_name() : nullptr; }

void GreenHub::fd_closing(int fd, PyObject* exception) {
  if (fd >= 0 && static_cast<size_t>(fd) < fd_waiters_.size()) {
    FdWaiters& w = fd_waiters_[fd];
    std::vector<uint64_t> names;
    names.swap(w.more);
    if (w.first) names.push_back(std::exchange(w.first, 0));
    for (uint64_t name : names) {
      WaiterSlot* w = waiters_.find(name);
      if (!w) continue;
      // Cancel now, before the fd number can be reused by a new socket.
      if (w->value.op) loop_->abandon(w->value.op);
      fire(name, Outcome::kThrown, 0, exception);
    }
  }
  auto it = orphans_.find(fd);
  if (it != orphans_.end()) {
    for (const OrphanConnection& c : it->second) ::close(c.fd);
    orphans_.erase(it);
  }
  loop_->forget_fd(fd);
}

bool GreenHub::take_orphan(int listener_fd, OrphanConnection* out) {
  auto it = orphans_.find(listener_fd);
  if (it == orphans_.end() || it->second.empty()) return false;
  *out = it->second.front();
  it->second.pop_front();
  if (it->second.empty()) orphans_.erase(it);
  return true;
}

inline bool GreenHub::suspend_fiber() {
  fiber::ThreadFiber* f = fiber::as(running_fiber_.get());
  PyThreadState* ts = PyThreadState_Get();
  fiber::PyStateSnapshot mine(ts);
  f->state = fiber::State::kParked;
  ++parked_fibers_;
  fibers_->suspend(f->saved, f->saved_size);
  mine.restore(ts);
  if (PyObject* exception = fiber_exception_) {
    fiber_exception_ = nullptr;
    PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(exception)), exception);
    return false;
  }
  return true;
}

// Kept tiny: the frames from a greenlet's start down to this switch are what
// greenlet copies to the heap for every parked greenlet, so the bookkeeping
// after the switch lives in collect_wait, out of the waiting frames; and it
// is inlined into each wait primitive (all in this file): one frame less to
// copy (48 bytes per parked greenlet).
[[gnu::always_inline]] inline WaitStatus GreenHub::finish_wait(uint64_t name, WaitResult* out) {
  bool resumed;
  stack_chunks::note_parking();
  PyObject* task = waiters_.find(name)->value.task.get();  // begin_wait's answer
  if (Task::is_fiber(task)) {
    resumed = suspend_fiber();
  } else {
    parked_greenlet_ = task;
    resumed = greenlet::switch_to(hub_greenlet_.get()).get() != nullptr;
  }
  return collect_wait(name, resumed, out);
}

WaitStatus GreenHub::collect_wait(uint64_t name, bool resumed, WaitResult* out) {
  WaiterSlot* w = waiters_.find(name);
  if (!w) return resumed ? WaitStatus::kReady : WaitStatus::kFailed;  // forgotten after fork
  Waiter state = std::move(w->value);
  waiters_.release(*w);
  untrack_fd(state.fd, name);
  if (state.more) {
    for (auto [fd, op] : *state.more) {
      untrack_fd(fd, name);
      loop_->abandon(op);  // completed ones are stale: ignored
    }
  }
  // Whatever did not wake us is withdrawn: an operation still in flight is
  // cancelled in the kernel (its slot lives until its last CQE), a timer
  // that did not fire is removed from the heap.
  if (state.outcome != Outcome::kOpDone && state.op) loop_->abandon(state.op);
  if (state.outcome != Outcome::kTimer && state.timer) loop_->cancel_timer(state.timer);
  WaitStatus status;
  if (!resumed) {
    // Accepted, then interrupted before we resumed: keep the connection.
    if (state.accepting && state.outcome == Outcome::kOpDone && state.result >= 0) {
      OrphanConnection kept{state.result, {}, 0};
      if (state.peer) {
        kept.address = state.peer->address;
        kept.address_len = state.peer->length;
      }
      orphans_[state.fd].push_back(kept);
    }
    status = WaitStatus::kFailed;
  } else if (state.outcome == Outcome::kThrown) {
    PyObject* exc = state.value.get();
    PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(exc)), exc);
    status = WaitStatus::kFailed;
  } else {
    out->result = state.result;
    out->value = std::move(state.value);
    if (state.accepting) accepted_peer_ = std::move(state.peer);
    status = state.outcome == Outcome::kTimer ? WaitStatus::kTimedOut : WaitStatus::kReady;
  }
  return status;
}

bool GreenHub::fire(uint64_t name, Outcome outcome, int32_t result, PyObject* value) {
  WaiterSlot* w = waiters_.find(name);
  if (!w || w->value.fired) return false;
  w->value.fired = true;
  w->value.outcome = outcome;
  w->value.result = result;
  w->value.value = PyRef::borrow(value);
  ready_.push_back(Ready{Ready::Kind::kWaiter, name, {}, {}});
  return true;
}

WaitStatus GreenHub::wait_fd(int fd, uint32_t poll_mask, double timeout, int32_t* revents, uint64_t file_key) {
  if (!loop_ready()) return WaitStatus::kFailed;
  WaiterSlot& w = begin_wait();
  uint64_t name = w.name();
  w.value.fd = fd;
  track_fd(fd, name);
  w.value.op = loop_->start_poll(fd, poll_mask, name, file_key);
  if (timeout >= 0) w.value.timer = loop_->add_timer(deadline_after(timeout), name);
  WaitResult done;
  WaitStatus status = finish_wait(name, &done);
  if (status == WaitStatus::kReady) *revents = done.result;
  return status;
}

WaitStatus GreenHub::wait_any(const std::vector<std::pair<int, uint32_t>>& fds, double timeout,
                               void (*publish)(void*, uint64_t), void* ctx) {
  if (!loop_ready()) return WaitStatus::kFailed;
  WaiterSlot& w = begin_wait();
  uint64_t name = w.name();
  for (size_t i = 0; i < fds.size(); ++i) {
    auto [fd, mask] = fds[i];
    track_fd(fd, name);
    uint64_t op = loop_->start_poll(fd, mask, name);
    if (i == 0) {
      w.value.fd = fd;
      w.value.op = op;
    } else {
      if (!w.value.more) w.value.more = std::make_unique<std::vector<std::pair<int, uint64_t>>>();
      w.value.more->emplace_back(fd, op);
    }
  }
  if (timeout >= 0) w.value.timer = loop_->add_timer(deadline_after(timeout), name);
  if (publish) publish(ctx, name);
  WaitResult done;
  return finish_wait(name, &done);
}

bool GreenHub::watch_also(uint64_t waiter, int fd, uint32_t poll_mask) {
  WaiterSlot* w = waiters_.find(waiter);
  if (!w || w->value.fired) return false;
  track_fd(fd, waiter);
  uint64_t op = loop_->start_poll(fd, poll_mask, waiter);
  if (!w->value.more) w->value.more = std::make_unique<std::vector<std::pair<int, uint64_t>>>();
  w->value.more->emplace_back(fd, op);
  return true;
}

WaitStatus GreenHub::wait_accept(int fd, int accept_flags, double timeout, int32_t* result,
                                 sockaddr_storage* address, socklen_t* address_len, uint64_t file_key) {
  if (!loop_ready()) return WaitStatus::kFailed;
  WaiterSlot& w = begin_wait();
  uint64_t name = w.name();
  w.value.fd = fd;
  w.value.accepting = true;
  track_fd(fd, name);
  w.value.op = loop_->start_accept(fd, accept_flags, name, file_key);
  if (timeout >= 0) w.value.timer = loop_->add_timer(deadline_after(timeout), name);
  WaitResult done;
  WaitStatus status = finish_wait(name, &done);
  std::unique_ptr<PeerAddress> peer = std::move(accepted_peer_);
  if (status == WaitStatus::kReady) {
    *result = done.result;
    if (peer && address) {
      *address = peer->address;
      *address_len = peer->length;
    }
  }
  return status;
}

WaitStatus GreenHub::sleep(double seconds) {
  if (seconds > 0 && !loop_ready()) return WaitStatus::kFailed;
  WaiterSlot& w = begin_wait();
  uint64_t name = w.name();
  if (seconds > 0) {
    w.value.timer = loop_->add_timer(deadline_after(seconds), name);
  } else {
    fire(name, Outcome::kYielded, 0, nullptr);  // back of the ready queue
  }
  WaitResult done;
  WaitStatus status = finish_wait(name, &done);
  return status == WaitStatus::kTimedOut ? WaitStatus::kReady : status;
}

WaitStatus GreenHub::run_first(PyObject* fiber) {
  WaiterSlot& w = begin_wait();
  uint64_t name = w.name();
  fire(name, Outcome::kYielded, 0, nullptr);  // our turn, at the back of the ready queue
  fiber_to_start_ = PyRef::borrow(fiber);   // the hub starts it as soon as we are parked
  WaitResult done;
  return finish_wait(name, &done);
}

WaitStatus GreenHub::park(double timeout, PyRef* value_out, void (*publish)(void*, uint64_t), void* ctx) {
  if (!loop_ready()) return WaitStatus::kFailed;
  WaiterSlot& w = begin_wait();
  uint64_t name = w.name();
  if (timeout >= 0) w.value.timer = loop_->add_timer(deadline_after(timeout), name);
  if (publish) publish(ctx, name);
  WaitResult done;
  WaitStatus status = finish_wait(name, &done);
  if (status == WaitStatus::kReady) *value_out = std::move(done.value);
  return status;
}

bool GreenHub::wake(uint64_t waiter, PyObject* value) { return fire(waiter, Outcome::kWoken, 0, value); }

bool GreenHub::wake_with_exception(uint64_t waiter, PyObject* exception) {
  return fire(waiter, Outcome::kThrown, 0, exception);
}

}  // namespace tf::core
