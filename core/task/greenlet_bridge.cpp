// A fiber-thread that switches to a greenlet of its own (greenlet.switch or
// throw called in a thread): the fiber parks and the hub makes the call from
// its own greenlet; what comes back to the hub greenlet (a return, the
// greenlet's end, an exception, a switch to the hub greenlet) is the
// fiber's, as the caller of switch() would get it under greenlet.
#include "core/task/green_hub.hpp"
#include "core/task/hub_internal.hpp"
#include "core/task/fiber.hpp"

namespace tf::core {

PyObject* GreenHub::call_greenlet_for_fiber(PyObject* method, PyObject* target, PyObject* args, PyObject* kwargs) {
  greenlet_call_ = std::make_unique<GreenletCall>(GreenletCall{PyRef::borrow(method), PyRef::borrow(target),
                                                               PyRef::borrow(args), PyRef::borrow(kwargs),
                                                               PyRef::borrow(fiber_here()), 0});
  // The hub makes the call once we are parked; what it gets wakes our wait.
  auto name_the_wait = [](void* call, uint64_t name) { static_cast<GreenletCall*>(call)->waiter = name; };
  PyRef value;
  if (park(-1, &value, name_the_wait, greenlet_call_.get()) == WaitStatus::kFailed) {
    greenlet_call_.reset();  // not made (no engine): it must not run later
    return nullptr;
  }
  return value ? value.release() : Py_NewRef(Py_None);
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

}  // namespace tf::core
