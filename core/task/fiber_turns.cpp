// Fiber-threads taking turns on the hub's SharedStack: where their region
// lies below the hub's frames, resuming one (with its Python thread state)
// until it parks or ends, and what a fiber's entry asks of the hub.
#include "core/task/green_hub.hpp"
#include "core/task/hub_internal.hpp"
#include "core/task/fiber.hpp"
#include "core/task/greenlet_api.hpp"
#include "core/thread/start.hpp"

#include <pthread.h>

#include <algorithm>

namespace tf::core {
namespace {

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

}  // namespace

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

}  // namespace tf::core
