#include "core/task/green_hub.hpp"
#include "core/task/hub_internal.hpp"
#include "core/recursion_depth.hpp"

#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <atomic>
#include <mutex>
#include <vector>

#include "core/task/fiber.hpp"
#include "core/task/greenlet_api.hpp"

namespace tf::core {

PyObject* DeadlockError = nullptr;

namespace {

thread_local GreenHub* t_hub = nullptr;

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
  bool failed = false;
  {
    // Greenlets start at the hub's recursion depth. One below zero, so that
    // a thread's first Python frame (our wrapper) stands where python3's
    // Thread._bootstrap does.
    recursion::DepthScope depth(PyThreadState_Get(), -1);
    schedule_switch(target.get(), nullptr);

    // main_, not target: after a fork from another greenlet, the child's
    // program is the greenlet that forked (as python3's child has only the
    // thread that forked).
    while (!Task::is_dead(main_.get())) {
      run_ready();
      if (Task::is_dead(main_.get())) break;
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
  }  // the depth the caller had, before anything is dropped
  main_.reset();
  if (failed) return {};
  if (main_error_) {
    main_error_.restore();
    return {};
  }
  return std::move(main_result_);
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
        PyRef g = w->value.task;
        resume(g.get(), nullptr, nullptr);
        break;
      }
      case Ready::Kind::kSwitch:
        Task::about_to_start(item.target.get());
        if (!Task::is_dead(item.target.get())) resume(item.target.get(), item.arg.get(), nullptr);
        break;
      case Ready::Kind::kThrow:
        Task::about_to_start(item.target.get());
        if (!Task::is_dead(item.target.get())) resume(item.target.get(), nullptr, item.arg.get());
        break;
      case Ready::Kind::kCall: {
        PyRef args = item.arg ? item.arg : PyRef::steal(PyTuple_New(0));
        PyRef r = PyRef::steal(PyObject_Call(item.target.get(), args.get(), nullptr));
        if (!r) report_child_error(item.target.get(), "Exception in hub callback");
        break;
      }
    }
    start_fibers_asked_for();
    if (main_ && Task::is_dead(main_.get())) return;
  }
}

namespace {
std::atomic<long> g_pool_threads{0};
}

void GreenHub::count_pool_threads(long delta) { g_pool_threads += delta; }

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
  if (!main_ || Task::is_dead(main_.get())) {
    PyErr_Print();
    return;
  }
  schedule_throw(main_.get(), fetch_exception().get());
}

bool GreenHub::deadlocked() {
  if (!ready_.empty() || loop_->ops_in_flight() || loop_->timers_pending() || holds_ > 0) return false;
  if (!main_ || Task::is_dead(main_.get())) return false;
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
