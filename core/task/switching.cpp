// Giving a task the CPU: switching into or throwing into it from the hub
// (GreenHub::resume decides greenlet or fiber), what happens when it comes
// back, and the ready queue's entries (switch, throw, call, later).
#include "core/task/green_hub.hpp"
#include "core/task/hub_internal.hpp"
#include "core/task/fiber.hpp"
#include "core/task/greenlet_api.hpp"

namespace tf::core {
namespace {

void print_error_with_header(const char* header, PyObject* context) {
  PyObject *type, *value, *tb;
  if (!PyErr_Occurred())  // a task came back with NULL and no exception: say so, do not crash
    PyErr_SetString(PyExc_SystemError, "a task came back to the hub with an error but no exception set");
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

PyRef throw_into_greenlet(PyObject* greenlet, PyObject* exception) {
  PyObject* type = PyExceptionInstance_Check(exception) ? reinterpret_cast<PyObject*>(Py_TYPE(exception))
                                                        : exception;
  PyObject* value = PyExceptionInstance_Check(exception) ? exception : nullptr;
  PyRef tb = PyRef::steal(value ? PyException_GetTraceback(value) : nullptr);
  return greenlet::throw_into(greenlet, type, value, tb.get());
}

}  // namespace

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

// The one place where the two kinds of task part: a fiber-thread is resumed
// on the shared stack, a greenlet switched to (or thrown into) by greenlet.
// Either way the task runs until it parks, ends or comes back to the hub.
void GreenHub::resume(PyObject* task, PyObject* args, PyObject* exception) {
  if (Task::is_fiber(task)) {
    resume_fiber(task, exception);
    return;
  }
  in_hub_ = false;
  resumed_at_ = switch_clock_ns();
  PyRef r = exception ? throw_into_greenlet(task, exception) : greenlet::switch_to(task, args);
  in_hub_ = true;
  if (hand_back_to_fiber(task, r)) return;
  after_switch_back(task, std::move(r));
}

WaitStatus GreenHub::yield_if_due() {
  // sys.getswitchinterval() is 5 ms unless the program changed it.
  constexpr int64_t kIntervalNs = 5'000'000;
  if (switch_clock_ns() - resumed_at_ < kIntervalNs) return WaitStatus::kReady;
  return sleep(0);
}

void GreenHub::report_child_error(PyObject* context, const char* header) {
  // SystemExit and KeyboardInterrupt from any greenlet end the program, as
  // they would from a thread's caller: hand them to the main greenlet.
  if (PyErr_ExceptionMatches(PyExc_SystemExit) || PyErr_ExceptionMatches(PyExc_KeyboardInterrupt)) {
    if (main_ && !Task::is_dead(main_.get())) {
      schedule_throw(main_.get(), fetch_exception().get());
      return;
    }
  }
  print_error_with_header(header, context);
}

// The wait `waiter` of `task` ends with `exception` in its turn, even if it
// was about to resume normally; false if that is not `task`'s wait any more,
// or if it is a finished accept (its new connection must not be lost).
bool GreenHub::end_wait_with(uint64_t waiter, PyObject* task, PyObject* exception) {
  WaiterSlot* w = waiters_.find(waiter);
  if (!w || w->value.task.get() != task) return false;
  if (w->value.fired && w->value.accepting && w->value.outcome == Outcome::kOpDone) return false;
  if (!w->value.fired) {
    fire(waiter, Outcome::kThrown, 0, exception);
  } else {
    w->value.outcome = Outcome::kThrown;
    w->value.value = PyRef::borrow(exception);
  }
  return true;
}

void GreenHub::schedule_switch(PyObject* task, PyObject* args) {
  Task::queued_before_start(task);
  // A fiber-thread takes no switch arguments.
  PyRef switch_args = Task::is_fiber(task) ? PyRef() : PyRef::borrow(args);
  ready_.push_back(Ready{Ready::Kind::kSwitch, 0, PyRef::borrow(task), std::move(switch_args)});
}

void GreenHub::schedule_throw(PyObject* greenlet, PyObject* exception) {
  ready_.push_back(Ready{Ready::Kind::kThrow, 0, PyRef::borrow(greenlet), PyRef::borrow(exception)});
}

void GreenHub::throw_soon(PyObject* greenlet, PyObject* exception) {
  if (Task::is_fiber(greenlet)) {
    // A parked thread's wait ends with it, in its turn, as the main
    // greenlet's does below.
    fiber::ThreadFiber* f = fiber::as(greenlet);
    if (f->state == fiber::State::kDead) return;
    if (f->state == fiber::State::kParked && end_wait_with(f->waiter, greenlet, exception)) return;
    schedule_throw(greenlet, exception);
    return;
  }
  if (in_hub_ && running_) {
    if (!greenlet::is_dead(greenlet)) resume(greenlet, nullptr, exception);
    return;
  }
  // The main greenlet parked in a wait: that wait ends with the exception,
  // in its turn, even if it was about to resume normally (a signal handler
  // or interrupt_main() raising in another fiber-thread: python3 raises
  // it in the main thread at once, not whenever the hub gets to it).
  if (greenlet == main_.get() && main_waiter_ && end_wait_with(main_waiter_, greenlet, exception)) return;
  schedule_throw(greenlet, exception);
}

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

}  // namespace tf::core
