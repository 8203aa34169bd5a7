#include "core/task/green_hub.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <exception>
#include <atomic>
#include <mutex>
#include <vector>

#include "core/task/fiber.hpp"
#include "core/thread/start.hpp"
#include "core/task/greenlet_api.hpp"
#include "core/task/stack_chunks.hpp"

namespace tf::core {

PyObject* DeadlockError = nullptr;

namespace {

thread_local GreenHub* t_hub = nullptr;

// The clock of the switch interval: read at every switch and every lock
// acquire, so the coarse one (a few ms of resolution, a third of the cost);
// the interval only decides when a greenlet that never waits lets others in.
int64_t switch_clock_ns() {
  timespec now;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
  return static_cast<int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
}

// Timer tokens with bit 63 set name a TimerCallback, others a Waiter
// (SlotPool keeps generations below 2^31, so names never use bit 63).
constexpr uint64_t kCallbackTag = uint64_t{1} << 63;

hub::Clock::time_point deadline_after(double seconds) {
  // Far enough to mean "never" without overflowing the clock.
  constexpr double kMaxSeconds = 1e9;
  if (!(seconds < kMaxSeconds)) seconds = kMaxSeconds;
  return hub::Clock::now() +
         std::chrono::duration_cast<hub::Clock::duration>(std::chrono::duration<double>(seconds));
}

// True when a Python-level handler other than default_int_handler is set
// for some signal (signal.getsignal is Python-visible: patched or not, it
// reports the handler the program installed).
bool python_signal_handler_installed() {
  PyRef signal = PyRef::steal(PyImport_ImportModule("_signal"));
  PyRef getsignal = signal ? PyRef::steal(PyObject_GetAttrString(signal.get(), "getsignal")) : PyRef();
  PyRef default_int = signal ? PyRef::steal(PyObject_GetAttrString(signal.get(), "default_int_handler")) : PyRef();
  if (!getsignal || !default_int) {
    PyErr_Clear();
    return true;  // cannot tell: assume it might
  }
  for (int sig = 1; sig < NSIG; ++sig) {
    PyRef h = PyRef::steal(PyObject_CallFunction(getsignal.get(), "i", sig));
    if (!h) {
      PyErr_Clear();
      continue;
    }
    if (h.get() != default_int.get() && PyCallable_Check(h.get())) return true;
  }
  return false;
}

// A task is a greenlet or a fiber-thread.
bool task_is_dead(PyObject* task) { return fiber::check(task) ? fiber::is_dead(task) : greenlet::is_dead(task); }

// Fiber-threads run this far below the frames of GreenHub::run(): room for
// the hub's own calls (a Python callback it runs) between the two. Pages of
// it that nothing touches cost nothing.
constexpr size_t kFiberGap = 64 * 1024;
// The hub must be at least this far above the fibers' base to resume one.
constexpr size_t kResumeHeadroom = 8 * 1024;

// The gap for a hub whose run() is at `here`: kFiberGap, less on a thread
// whose stack is small (threading.stack_size()), so that most of what is
// left below stays the fibers'.
size_t fiber_gap_below(char* here) {
  pthread_attr_t attr;
  if (pthread_getattr_np(pthread_self(), &attr) != 0) return kFiberGap;
  void* low = nullptr;
  size_t size = 0;
  int failed = pthread_attr_getstack(&attr, &low, &size);
  pthread_attr_destroy(&attr);
  if (failed || here <= static_cast<char*>(low)) return kFiberGap;
  size_t room = static_cast<size_t>(here - static_cast<char*>(low));
  return std::min(kFiberGap, std::max(2 * kResumeHeadroom, room / 8));
}

bool on_process_main_thread() { return ::syscall(SYS_gettid) == ::getpid(); }

// A wait that nothing can end idles until a signal, as under python3;
// TFPYTHON_REPORT_DEADLOCK=1 (a debugging aid) raises DeadlockError instead.
bool report_deadlocks() {
  static const bool wanted = [] {
    const char* v = std::getenv("TFPYTHON_REPORT_DEADLOCK");
    return v && *v && std::strcmp(v, "0") != 0;
  }();
  return wanted;
}

// A call or wake-up posted by another OS thread; runs on the hub's thread.
struct CrossThreadPost {
  GreenHub* hub;
  PyObject* fn;      // owned; null for a wake-up
  PyObject* args;    // owned
  uint64_t waiter;   // for a wake-up
  PyObject* value;   // owned; for a wake-up
};

void run_cross_thread_post(void* arg) {
  auto* post = static_cast<CrossThreadPost*>(arg);
  if (post->fn) {
    post->hub->schedule_call(post->fn, post->args);
  } else {
    post->hub->wake(post->waiter, post->value);
  }
  Py_XDECREF(post->fn);
  Py_XDECREF(post->args);
  Py_XDECREF(post->value);
  delete post;
}

void print_error_with_header(const char* header, PyObject* context) {
  PyObject *type, *value, *tb;
  PyErr_Fetch(&type, &value, &tb);
  PyErr_NormalizeException(&type, &value, &tb);
  if (tb && value) PyException_SetTraceback(value, tb);
  PyRef repr = PyRef::steal(context ? PyObject_Repr(context) : nullptr);
  if (!repr) PyErr_Clear();
  PyRef file = PyRef::borrow(PySys_GetObject("stderr"));
  if (file && file.get() != Py_None) {
    PyRef line = PyRef::steal(repr ? PyUnicode_FromFormat("%s %U:\n", header, repr.get())
                                   : PyUnicode_FromFormat("%s:\n", header));
    if (line) PyFile_WriteObject(line.get(), file.get(), Py_PRINT_RAW);
    PyErr_Clear();
  }
  PyErr_Display(type, value, tb);
  Py_XDECREF(type);
  Py_XDECREF(value);
  Py_XDECREF(tb);
}

}  // namespace

GreenHub* GreenHub::current() { return t_hub; }

GreenHub& GreenHub::for_this_thread() {
  // A hub lives as long as its thread: greenlets that still wait on it may
  // be resumed or collected at any later point and must find it intact.
  if (!t_hub) {
    t_hub = new GreenHub();
    if (!on_process_main_thread() && !t_hub->watch_thread_end()) PyErr_Clear();  // kept for good: a leak only
  }
  return *t_hub;
}

namespace {
std::mutex g_registry_mu;
std::vector<GreenHub*> g_registry;  // index = serial - 1; null once its thread ended

GreenHub* registered(uint64_t serial) {  // g_registry_mu held
  return serial >= 1 && serial <= g_registry.size() ? g_registry[serial - 1] : nullptr;
}

// In the thread state's dict of a thread that made a hub: cleared (with the
// GIL held) when the thread ends, which frees the thread's hub.
constexpr const char* kThreadEndKey = "theframework.hub_of_this_thread";

void on_thread_state_cleared(PyObject* capsule) {
  auto* hub = static_cast<GreenHub*>(PyCapsule_GetPointer(capsule, kThreadEndKey));
  if (hub && hub == GreenHub::current()) hub->at_thread_end();
}
}  // namespace

GreenHub::GreenHub() : loop_(std::make_unique<hub::Loop>()) {
  std::lock_guard<std::mutex> lock(g_registry_mu);
  g_registry.push_back(this);
  serial_ = g_registry.size();
}

GreenHub::~GreenHub() {
  for (auto& [fd, connections] : orphans_)
    for (const OrphanConnection& c : connections) ::close(c.fd);
}

bool GreenHub::watch_thread_end() {
  PyObject* dict = PyThreadState_GetDict();  // borrowed
  if (!dict) return false;
  PyRef capsule = PyRef::steal(PyCapsule_New(this, kThreadEndKey, on_thread_state_cleared));
  return capsule && PyDict_SetItemString(dict, kThreadEndKey, capsule.get()) == 0;
}

void GreenHub::at_thread_end() {
  {
    std::lock_guard<std::mutex> lock(g_registry_mu);
    g_registry[serial_ - 1] = nullptr;  // no other thread reaches us from now on
  }
  t_hub = nullptr;
  // What the kernel holds for us goes now: a fresh loop has no engine and
  // no fd (the old one closes its ring or epoll fd and its eventfd).
  loop_ = std::make_unique<hub::Loop>();
  // Greenlets still parked here can never run again; freeing their waiters
  // would drop the last references to suspended greenlets while the thread
  // is being torn down, so such a hub is kept (small, without its fds).
  if (waiters_.live() == 0 && parked_fibers_ == 0 && !running_) delete this;
}

GreenHub* GreenHub::by_serial(uint64_t serial) {
  std::lock_guard<std::mutex> lock(g_registry_mu);
  return registered(serial);
}

bool GreenHub::call_soon_threadsafe(uint64_t serial, PyObject* fn, PyObject* args) {
  std::lock_guard<std::mutex> lock(g_registry_mu);  // the hub cannot be freed meanwhile
  GreenHub* hub = registered(serial);
  if (hub) hub->call_soon_threadsafe(fn, args);
  return hub != nullptr;
}

bool GreenHub::wake_threadsafe(uint64_t serial, uint64_t waiter, PyObject* value) {
  std::lock_guard<std::mutex> lock(g_registry_mu);
  GreenHub* hub = registered(serial);
  if (hub) hub->wake_threadsafe(waiter, value);
  return hub != nullptr;
}

// ---------------------------------------------------------------- running --

PyRef GreenHub::run(PyObject* callable) {
  if (running_) {
    PyErr_SetString(PyExc_RuntimeError, "the hub of this thread is already running");
    return {};
  }
  PyRef self = greenlet::current();
  if (!self) return {};
  PyRef target = greenlet::create(callable, self.get());
  if (!target) return {};
  if (!fiber::install_greenlet_methods()) return {};
  if (!place_fibers(hub::SharedStack::stack_pointer())) return {};
  hub_greenlet_ = self;
  main_ = target;
  main_result_.reset();
  main_error_ = SavedError();
  running_ = true;
  in_hub_ = true;
  // Greenlets start at the hub's recursion depth. One below zero, so that a
  // thread's first Python frame (our wrapper) stands where python3's
  // Thread._bootstrap does.
  PyThreadState* ts = PyThreadState_Get();
  int saved_depth = ts->recursion_limit - ts->recursion_remaining;
  ts->recursion_remaining = ts->recursion_limit + 1;
  schedule_switch(target.get(), nullptr);

  bool failed = false;
  // main_, not target: after a fork from another greenlet, the child's
  // program is the greenlet that forked (as python3's child has only the
  // thread that forked).
  while (!task_is_dead(main_.get())) {
    run_ready();
    if (task_is_dead(main_.get())) break;
    bool may_block = ready_.empty();
    if (may_block && report_deadlocks() && deadlocked()) {
      PyRef exc = PyRef::steal(PyObject_CallFunction(
          DeadlockError, "s",
          "this operation would block forever: every greenlet is waiting and no timer, "
          "I/O, thread or signal can wake any of them"));
      if (exc) schedule_throw(main_.get(), exc.get());
      continue;
    }
    if (int rc = loop_->run_once(may_block, *this); rc < 0) {
      errno = -rc;
      PyErr_SetFromErrno(PyExc_OSError);
      failed = true;
      break;
    }
  }
  ready_.clear();
  running_ = false;
  in_hub_ = false;
  ts->recursion_remaining = ts->recursion_limit - saved_depth;
  main_.reset();
  if (failed) return {};
  if (main_error_) {
    main_error_.restore();
    return {};
  }
  return std::move(main_result_);
}

bool GreenHub::place_fibers(char* here) {
  if (!fibers_ || here - fibers_->base() < static_cast<ptrdiff_t>(kResumeHeadroom * 2)) {
    if (parked_fibers_ > 0) {
      PyErr_SetString(PyExc_RuntimeError, "the hub cannot run deeper in the stack than when threads parked on it");
      return false;
    }
    fibers_ = std::make_unique<hub::SharedStack>(here - fiber_gap_below(here));
  }
  return true;
}

namespace {
PyMethodDef g_loop_beside_def = {"hub_loop", GreenHub::loop_beside, METH_NOARGS, nullptr};
}  // namespace

bool GreenHub::run_beside() {
  if (running_) {
    PyErr_SetString(PyExc_RuntimeError, "the hub of this thread is already running");
    return false;
  }
  PyRef self = greenlet::current();
  PyRef body = self ? PyRef::steal(PyCFunction_New(&g_loop_beside_def, nullptr)) : PyRef();
  PyRef hub = body ? greenlet::create(body.get(), self.get()) : PyRef();
  if (!hub || !fiber::install_greenlet_methods()) return false;
  // The hub greenlet starts here, at this depth, so its loop runs above the
  // fibers' region whatever depth the program waits at later.
  if (!place_fibers(hub::SharedStack::stack_pointer())) return false;
  hub_greenlet_ = hub;
  main_ = self;
  main_result_.reset();
  main_error_ = SavedError();
  running_ = true;
  schedule_switch(self.get(), nullptr);  // the hub's first turn hands control back to us
  PyRef back = greenlet::switch_to(hub.get());
  return bool(back);
}

PyObject* GreenHub::loop_beside(PyObject*, PyObject*) {
  GreenHub* self = current();
  self->in_hub_ = true;
  for (;;) {
    self->run_ready();
    if (int rc = self->loop_->run_once(self->ready_.empty(), *self); rc < 0) {
      // The kernel refused the wait: say so, and stop driving (the prompt
      // goes on without the hub, as before).
      errno = -rc;
      PyErr_SetFromErrno(PyExc_OSError);
      PyErr_WriteUnraisable(nullptr);
      self->running_ = false;
      self->in_hub_ = false;
      Py_RETURN_NONE;
    }
  }
}

void GreenHub::run_ready() {
  // Only what was ready when this pass began: a greenlet that yields
  // (sleep(0)) goes to the back and runs after the next I/O poll.
  start_fibers_asked_for();
  size_t n = ready_.size();
  while (n-- > 0 && !ready_.empty()) {
    Ready item = std::move(ready_.front());
    ready_.pop_front();
    switch (item.kind) {
      case Ready::Kind::kWaiter: {
        WaiterSlot* w = waiters_.find(item.waiter);
        if (!w || !w->value.fired) break;  // raced by an exception thrown in
        PyRef g = w->value.greenlet;
        switch_into(g.get(), nullptr);
        break;
      }
      case Ready::Kind::kSwitch:
        track_before_start(item.target.get());
        if (!task_is_dead(item.target.get())) switch_into(item.target.get(), item.arg.get());
        break;
      case Ready::Kind::kThrow:
        track_before_start(item.target.get());
        if (!task_is_dead(item.target.get())) throw_into(item.target.get(), item.arg.get());
        break;
      case Ready::Kind::kCall: {
        PyRef args = item.arg ? item.arg : PyRef::steal(PyTuple_New(0));
        PyRef r = PyRef::steal(PyObject_Call(item.target.get(), args.get(), nullptr));
        if (!r) report_child_error(item.target.get(), "Exception in hub callback");
        break;
      }
    }
    start_fibers_asked_for();
    if (main_ && task_is_dead(main_.get())) return;
  }
}

void GreenHub::after_switch_back(PyObject* greenlet, PyRef result) {
  bool main_finished = main_ && greenlet == main_.get() && greenlet::is_dead(greenlet);
  if (result) {
    if (main_finished) main_result_ = std::move(result);
    return;
  }
  if (main_finished) {
    main_error_ = SavedError::fetch();
    return;
  }
  report_child_error(greenlet, "Exception in greenlet");
}

void GreenHub::track_before_start(PyObject* greenlet) {
  if (fiber::check(greenlet)) return;  // never tracked (green_fiber.cpp)
  // spawn() leaves a queued greenlet untracked by the cycle collector (the
  // ready queue keeps it alive); from its start on it may be part of cycles.
  if (!greenlet::is_started(greenlet) && !PyObject_GC_IsTracked(greenlet)) PyObject_GC_Track(greenlet);
}

void GreenHub::switch_into(PyObject* greenlet, PyObject* args) {
  if (fiber::check(greenlet)) {
    resume_fiber(greenlet, nullptr);
    return;
  }
  in_hub_ = false;
  resumed_at_ = switch_clock_ns();
  PyRef r = greenlet::switch_to(greenlet, args);
  in_hub_ = true;
  if (hand_back_to_fiber(greenlet, r)) return;
  after_switch_back(greenlet, std::move(r));
}

WaitStatus GreenHub::yield_if_due() {
  // sys.getswitchinterval() is 5 ms unless the program changed it.
  constexpr int64_t kIntervalNs = 5'000'000;
  if (switch_clock_ns() - resumed_at_ < kIntervalNs) return WaitStatus::kReady;
  return sleep(0);
}

void GreenHub::throw_into(PyObject* greenlet, PyObject* exception) {
  if (fiber::check(greenlet)) {
    resume_fiber(greenlet, exception);
    return;
  }
  PyObject* type = PyExceptionInstance_Check(exception) ? reinterpret_cast<PyObject*>(Py_TYPE(exception))
                                                        : exception;
  PyObject* value = PyExceptionInstance_Check(exception) ? exception : nullptr;
  PyRef tb = PyRef::steal(value ? PyException_GetTraceback(value) : nullptr);
  in_hub_ = false;
  resumed_at_ = switch_clock_ns();
  PyRef r = greenlet::throw_into(greenlet, type, value, tb.get());
  in_hub_ = true;
  if (hand_back_to_fiber(greenlet, r)) return;
  after_switch_back(greenlet, std::move(r));
}

void GreenHub::report_child_error(PyObject* context, const char* header) {
  // SystemExit and KeyboardInterrupt from any greenlet end the program, as
  // they would from a thread's caller: hand them to the main greenlet.
  if (PyErr_ExceptionMatches(PyExc_SystemExit) || PyErr_ExceptionMatches(PyExc_KeyboardInterrupt)) {
    if (main_ && !task_is_dead(main_.get())) {
      schedule_throw(main_.get(), fetch_exception().get());
      return;
    }
  }
  print_error_with_header(header, context);
}

// ---------------------------------------------------------------- waiting --

GreenHub::WaiterSlot& GreenHub::begin_wait() {
  WaiterSlot& w = waiters_.acquire();
  if (PyObject* fiber = fiber_here()) {
    w.value.greenlet = PyRef::borrow(fiber);
    fiber::as(fiber)->waiter = w.name();
  } else {
    w.value.greenlet = greenlet::current();
  }
  if (w.value.greenlet.get() == main_.get()) main_waiter_ = w.name();
  return w;
}

void GreenHub::track_fd(int fd, uint64_t name) {
  if (fd < 0) return;
  if (static_cast<size_t>(fd) >= fd_waiters_.size()) fd_waiters_.resize(fd + 64);
  fd_waiters_[fd].push_back(name);
}

void GreenHub::untrack_fd(int fd, uint64_t name) {
  if (fd < 0 || static_cast<size_t>(fd) >= fd_waiters_.size()) return;
  auto& names = fd_waiters_[fd];
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == name) {
      names[i] = names.back();
      names.pop_back();
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
    std::vector<uint64_t> names;
    names.swap(fd_waiters_[fd]);
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
  PyObject* task = waiters_.find(name)->value.greenlet.get();  // begin_wait's answer
  if (fiber::check(task)) {
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
    fire(name, Outcome::kTimer, 0, nullptr);  // yield: back of the ready queue
  }
  WaitResult done;
  WaitStatus status = finish_wait(name, &done);
  return status == WaitStatus::kTimedOut ? WaitStatus::kReady : status;
}

WaitStatus GreenHub::run_first(PyObject* fiber) {
  WaiterSlot& w = begin_wait();
  uint64_t name = w.name();
  fire(name, Outcome::kTimer, 0, nullptr);  // our turn, at the back of the ready queue
  fiber_to_start_ = PyRef::borrow(fiber);   // the hub starts it as soon as we are parked
  WaitResult done;
  WaitStatus status = finish_wait(name, &done);
  return status == WaitStatus::kTimedOut ? WaitStatus::kReady : status;
}

// ----------------------------------------------------------------- fibers --

PyObject* GreenHub::fiber_here() const {
  if (!running_fiber_) return nullptr;
  return fiber_for(greenlet::current().get());
}

PyObject* GreenHub::fiber_for(PyObject* current_greenlet) const {
  // Code in a fiber that switched to a greenlet of its own runs there, not
  // in the fiber (the fiber's frames are then part of the hub greenlet's).
  return running_fiber_ && current_greenlet == hub_greenlet_.get() ? running_fiber_.get() : nullptr;
}

PyRef GreenHub::current_task() const {
  if (PyObject* fiber = fiber_here()) return PyRef::borrow(fiber);
  return greenlet::current();
}

void GreenHub::resume_fiber(PyObject* fiber, PyObject* exception) {
  fiber::ThreadFiber* f = fiber::as(fiber);
  if (f->state == fiber::State::kDead || f->state == fiber::State::kRunning) return;
  if (hub::SharedStack::stack_pointer() - fibers_->base() < static_cast<ptrdiff_t>(kResumeHeadroom))
    Py_FatalError("tfpython: the hub would resume a thread over its own frames");
  PyRef keep = PyRef::borrow(fiber);  // alive until it parks or ends, whoever lets go of it
  in_hub_ = false;
  resumed_at_ = switch_clock_ns();
  running_fiber_ = keep;
  fiber_exception_ = exception;
  PyThreadState* ts = PyThreadState_Get();
  {
    fiber::PyStateSnapshot hub_state(ts);
    fiber::swap_thread_state(ts, f);  // the fiber's own dict, id, trace functions...
    if (f->state == fiber::State::kNew) {
      f->state = fiber::State::kRunning;
      fibers_->start(thread_fiber_main, this);
    } else {
      f->state = fiber::State::kRunning;
      --parked_fibers_;
      fibers_->resume(f->saved, f->saved_size);
    }
    fiber::swap_thread_state(ts, f);  // ...and the hub's back
    hub_state.restore(ts);
  }
  running_fiber_.reset();
  fiber_exception_ = nullptr;
  in_hub_ = true;
  if (f->state == fiber::State::kDead) {
    fiber::release_saved(f);
    if (main_ && fiber == main_.get()) main_result_ = PyRef::borrow(Py_None);
  }
  if (greenlet_call_) run_greenlet_call();
}

PyObject* GreenHub::call_greenlet_for_fiber(PyObject* method, PyObject* target, PyObject* args, PyObject* kwargs) {
  PyObject* fiber = fiber_here();
  WaiterSlot& w = begin_wait();
  uint64_t name = w.name();
  greenlet_call_ = std::make_unique<GreenletCall>(GreenletCall{PyRef::borrow(method), PyRef::borrow(target),
                                                               PyRef::borrow(args), PyRef::borrow(kwargs),
                                                               PyRef::borrow(fiber), name});
  WaitResult done;
  if (finish_wait(name, &done) == WaitStatus::kFailed) return nullptr;
  return done.value ? done.value.release() : Py_NewRef(Py_None);
}

void GreenHub::run_greenlet_call() {
  std::unique_ptr<GreenletCall> call = std::move(greenlet_call_);
  fiber_greenlets_[call->target.get()] = FiberWaiting{call->fiber, call->waiter};
  in_hub_ = false;
  resumed_at_ = switch_clock_ns();
  PyRef r = PyRef::steal(fiber::call_original(call->method.get(), call->target.get(), call->args.get(),
                                               call->kwargs.get()));
  in_hub_ = true;
  hand_back_to_fiber(call->target.get(), r);
}

bool GreenHub::hand_back_to_fiber(PyObject* greenlet, PyRef& result) {
  PyObject* parked = std::exchange(parked_greenlet_, nullptr);
  if (fiber_greenlets_.empty()) return false;
  auto it = fiber_greenlets_.find(greenlet);
  if (it == fiber_greenlets_.end()) return false;
  FiberWaiting waiting = std::move(it->second);
  fiber_greenlets_.erase(it);
  if (parked) {
    // Only a wait: what comes back later, from the greenlet that parked,
    // is the fiber's.
    fiber_greenlets_[parked] = std::move(waiting);
    return true;
  }
  if (result) {
    wake(waiting.waiter, result.get());
    return true;
  }
  PyRef exception = fetch_exception();
  if (!wake_with_exception(waiting.waiter, exception.get())) {
    // The thread gave up waiting (an exception was thrown into it): the
    // greenlet's error goes where the hub's own children's go.
    PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(exception.get())), exception.get());
    report_child_error(greenlet, "Exception in greenlet");
  }
  return true;
}

PyObject* GreenHub::starting_fiber(PyObject** thrown) {
  *thrown = fiber_exception_;
  fiber_exception_ = nullptr;
  return running_fiber_.get();
}

void GreenHub::exit_fiber() {
  fiber::as(running_fiber_.get())->state = fiber::State::kDead;
  fibers_->exit();
}

void GreenHub::start_fibers_asked_for() {
  while (fiber_to_start_) {
    PyRef fiber = std::move(fiber_to_start_);
    resume_fiber(fiber.get(), nullptr);
  }
}

// The wait `waiter` of `task` ends with `exception` in its turn, even if it
// was about to resume normally; false if that is not `task`'s wait any more,
// or if it is a finished accept (its new connection must not be lost).
bool GreenHub::end_wait_with(uint64_t waiter, PyObject* task, PyObject* exception) {
  WaiterSlot* w = waiters_.find(waiter);
  if (!w || w->value.greenlet.get() != task) return false;
  if (w->value.fired && w->value.accepting && w->value.outcome == Outcome::kOpDone) return false;
  if (!w->value.fired) {
    fire(waiter, Outcome::kThrown, 0, exception);
  } else {
    w->value.outcome = Outcome::kThrown;
    w->value.value = PyRef::borrow(exception);
  }
  return true;
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

// ------------------------------------------------------------- scheduling --

void GreenHub::schedule_switch(PyObject* greenlet, PyObject* args) {
  if (fiber::check(greenlet)) {
    ready_.push_back(Ready{Ready::Kind::kSwitch, 0, PyRef::borrow(greenlet), {}});
    return;
  }
  // Until it starts, a new greenlet is kept alive by the ready queue: it
  // cannot be garbage, so the cycle collector need not traverse it (100,000
  // queued greenlets made every collection during a burst slow). run_ready
  // tracks it again just before it starts.
  if (!greenlet::is_started(greenlet) && PyObject_GC_IsTracked(greenlet)) PyObject_GC_UnTrack(greenlet);
  ready_.push_back(Ready{Ready::Kind::kSwitch, 0, PyRef::borrow(greenlet), PyRef::borrow(args)});
}

void GreenHub::schedule_throw(PyObject* greenlet, PyObject* exception) {
  ready_.push_back(Ready{Ready::Kind::kThrow, 0, PyRef::borrow(greenlet), PyRef::borrow(exception)});
}

void GreenHub::throw_soon(PyObject* greenlet, PyObject* exception) {
  if (fiber::check(greenlet)) {
    // A parked thread's wait ends with it, in its turn, as the main
    // greenlet's does below.
    fiber::ThreadFiber* f = fiber::as(greenlet);
    if (f->state == fiber::State::kDead) return;
    if (f->state == fiber::State::kParked && end_wait_with(f->waiter, greenlet, exception)) return;
    schedule_throw(greenlet, exception);
    return;
  }
  if (in_hub_ && running_) {
    if (!greenlet::is_dead(greenlet)) throw_into(greenlet, exception);
    return;
  }
  // The main greenlet parked in a wait: that wait ends with the exception,
  // in its turn, even if it was about to resume normally (a signal handler
  // or interrupt_main() raising in another fiber-thread: python3 raises
  // it in the main thread at once, not whenever the hub gets to it).
  if (greenlet == main_.get() && main_waiter_ && end_wait_with(main_waiter_, greenlet, exception)) return;
  schedule_throw(greenlet, exception);
}

namespace {
std::atomic<long> g_pool_threads{0};
}

void GreenHub::count_pool_threads(long delta) { g_pool_threads += delta; }

void GreenHub::schedule_call(PyObject* fn, PyObject* args) {
  ready_.push_back(Ready{Ready::Kind::kCall, 0, PyRef::borrow(fn), PyRef::borrow(args)});
}

uint64_t GreenHub::call_later(double delay, PyObject* fn, PyObject* args) {
  auto& slot = callbacks_.acquire();
  slot.value.fn = PyRef::borrow(fn);
  slot.value.args = PyRef::borrow(args);
  uint64_t handle = slot.name();
  slot.value.timer = loop_->add_timer(deadline_after(delay), handle | kCallbackTag);
  return handle;
}

bool GreenHub::cancel_call(uint64_t handle) {
  auto* slot = callbacks_.find(handle);
  if (!slot) return false;
  loop_->cancel_timer(slot->value.timer);
  callbacks_.release(*slot);
  return true;
}

void GreenHub::call_soon_threadsafe(PyObject* fn, PyObject* args) {
  Py_INCREF(fn);
  Py_XINCREF(args);
  loop_->post({run_cross_thread_post, new CrossThreadPost{this, fn, args, 0, nullptr}});
}

void GreenHub::wake_threadsafe(uint64_t waiter, PyObject* value) {
  Py_XINCREF(value);
  loop_->post({run_cross_thread_post, new CrossThreadPost{this, nullptr, nullptr, waiter, value}});
}

// ------------------------------------------------------------ loop events --

void GreenHub::on_op_done(uint64_t owner, int32_t res, uint32_t, const hub::Operation& op) {
  if (!fire(owner, Outcome::kOpDone, res, nullptr)) {
    if (op.kind == hub::OpKind::kAccept && res >= 0) on_orphan(res, op);
    return;
  }
  if (op.kind == hub::OpKind::kAccept) {
    Waiter& w = waiters_.find(owner)->value;
    if (op.accepted) w.peer = std::make_unique<PeerAddress>(PeerAddress{op.accepted->address, op.accepted->length});
  }
}

void GreenHub::on_orphan(int32_t res, const hub::Operation& op) {
  OrphanConnection kept{res, {}, 0};
  if (op.accepted) {
    kept.address = op.accepted->address;
    kept.address_len = op.accepted->length;
  }
  orphans_[op.fd].push_back(kept);
}

void GreenHub::on_timer(uint64_t token) {
  if (!(token & kCallbackTag)) {
    fire(token, Outcome::kTimer, 0, nullptr);
    return;
  }
  auto* slot = callbacks_.find(token & ~kCallbackTag);
  if (!slot) return;
  schedule_call(slot->value.fn.get(), slot->value.args.get());
  callbacks_.release(*slot);
}

void GreenHub::before_blocking() { saved_thread_ = PyEval_SaveThread(); }

void GreenHub::after_blocking() {
  PyEval_RestoreThread(saved_thread_);
  saved_thread_ = nullptr;
}

// A signal cut the wait short (EINTR): run Python's handlers now. As in
// python3, a signal handled by another thread, or _thread.interrupt_main(),
// does not interrupt a wait; pool threads block signals so that they reach
// this thread.
void GreenHub::on_interrupted() { deliver_signal_error(); }

void GreenHub::deliver_signal_error() {
  // Handlers run here, in the hub; what they raise (KeyboardInterrupt
  // above all) belongs to the main greenlet, where the user's code waits.
  if (PyErr_CheckSignals() == 0) return;
  if (!main_ || task_is_dead(main_.get())) {
    PyErr_Print();
    return;
  }
  schedule_throw(main_.get(), fetch_exception().get());
}

bool GreenHub::deadlocked() {
  if (!ready_.empty() || loop_->ops_in_flight() || loop_->timers_pending() || holds_ > 0) return false;
  if (!main_ || task_is_dead(main_.get())) return false;
  // Another OS thread running Python may still wake us.
  PyThreadState* me = PyThreadState_Get();
  long others = 0;
  for (PyThreadState* t = PyInterpreterState_ThreadHead(PyThreadState_GetInterpreter(me)); t;
       t = PyThreadState_Next(t)) {
    if (t != me) ++others;
  }
  if (others > g_pool_threads.load()) return false;
  if (!on_process_main_thread()) return true;
  // So may a Python-level signal handler (SIGINT's default one aside). The
  // C handlers of faulthandler or a sanitizer do not count.
  return !python_signal_handler_installed();
}

void GreenHub::after_fork_in_child() {
  PyRef forking = current_task();
  if (running_ && forking && main_ && forking.get() != main_.get()) main_ = forking;
  parked_fibers_ = 0;  // the parent's: never resumed here
  // The parent's ring, operations, timers and waiters are not ours: forget
  // them without running any of their greenlets' code (leaked on purpose).
  new hub::SlotPool<Waiter>(std::move(waiters_));
  new hub::SlotPool<TimerCallback>(std::move(callbacks_));
  waiters_ = hub::SlotPool<Waiter>();
  callbacks_ = hub::SlotPool<TimerCallback>();
  loop_ = std::make_unique<hub::Loop>();  // unmaps and closes the inherited ring
}

}  // namespace tf::core
