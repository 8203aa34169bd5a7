#include "core/select/wait.hpp"

#include <poll.h>

#include <cerrno>
#include <cmath>
#include <vector>

#include "core/args.hpp"
#include "core/task/green_hub.hpp"
#include "core/task/waiter.hpp"

namespace tf::core {
namespace {

// Blocking poll() with the GIL released: the path outside any hub.
int blocking_poll(int fd, short events, double timeout, int32_t* revents) {
  pollfd p{fd, events, 0};
  int ms = timeout < 0 ? -1 : static_cast<int>(std::ceil(timeout * 1000));
  for (;;) {
    int rc;
    Py_BEGIN_ALLOW_THREADS rc = ::poll(&p, 1, ms);
    Py_END_ALLOW_THREADS if (rc >= 0) {
      *revents = rc ? p.revents : 0;
      return rc;
    }
    if (errno != EINTR) {
      PyErr_SetFromErrno(PyExc_OSError);
      return -1;
    }
    if (PyErr_CheckSignals() < 0) return -1;
  }
}

PyObject* wait_fd_entry(PyObject* const* args, Py_ssize_t nargs, short events, const char* name) {
  if (!_PyArg_CheckPositional(name, nargs, 1, 2)) return nullptr;
  int fd = PyObject_AsFileDescriptor(args[0]);
  if (fd < 0) return nullptr;
  double timeout;
  if (!parse_timeout(nargs > 1 ? args[1] : nullptr, &timeout)) return nullptr;
  int32_t revents = 0;
  if (!GreenHub::cooperative_here()) {
    int rc = blocking_poll(fd, events, timeout, &revents);
    if (rc < 0) return nullptr;
    return PyBool_FromLong(rc > 0);
  }
  switch (GreenHub::current()->wait_fd(fd, events, timeout, &revents)) {
    case WaitStatus::kFailed:
      return nullptr;
    case WaitStatus::kTimedOut:
      Py_RETURN_FALSE;
    case WaitStatus::kReady:
      break;
  }
  if (revents < 0) {
    errno = -revents;
    return PyErr_SetFromErrno(PyExc_OSError);
  }
  Py_RETURN_TRUE;
}

PyObject* wait_readable(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  return wait_fd_entry(args, nargs, POLLIN, "wait_readable");
}

PyObject* wait_writable(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  return wait_fd_entry(args, nargs, POLLOUT, "wait_writable");
}

// wait_any([(fd, events), ...], timeout=None, waiter=None) -> bool: True
// when one of them is ready (or `waiter` was woken), False at the timeout.
// For select and poll; a shared poll object passes a Waiter so that a
// registration made meanwhile reaches the wait.
PyObject* wait_any(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  if (!_PyArg_CheckPositional("wait_any", nargs, 1, 3)) return nullptr;
  double timeout;
  if (!parse_timeout(nargs > 1 ? args[1] : nullptr, &timeout)) return nullptr;
  WaiterObject* waiter = nullptr;
  if (nargs > 2 && args[2] != Py_None) {
    if (!PyObject_TypeCheck(args[2], waiter_type())) {
      PyErr_SetString(PyExc_TypeError, "wait_any(): waiter must be a Waiter");
      return nullptr;
    }
    waiter = reinterpret_cast<WaiterObject*>(args[2]);
    if (waiter->name) {
      PyErr_SetString(PyExc_RuntimeError, "another greenlet is already waiting on this Waiter");
      return nullptr;
    }
  }
  if (!GreenHub::cooperative_here()) {
    PyErr_SetString(PyExc_RuntimeError, "wait_any() needs a running hub in this thread");
    return nullptr;
  }
  PyRef seq = PyRef::steal(PySequence_Fast(args[0], "wait_any() expects a sequence of (fd, events)"));
  if (!seq) return nullptr;
  std::vector<std::pair<int, uint32_t>> fds;
  Py_ssize_t n = PySequence_Fast_GET_SIZE(seq.get());
  fds.reserve(n);
  for (Py_ssize_t i = 0; i < n; ++i) {
    int fd;
    unsigned int events;
    if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(seq.get(), i), "iI", &fd, &events)) return nullptr;
    fds.emplace_back(fd, events);
  }
  GreenHub* hub = GreenHub::current();
  PyRef keep_waiter = PyRef::borrow(reinterpret_cast<PyObject*>(waiter));  // must outlive the wait
  if (waiter) waiter->hub_serial = hub->serial();
  void (*publish)(void*, uint64_t) = waiter ? publish_waiter_name : nullptr;
  WaitStatus status;
  if (fds.empty() && !waiter && timeout >= 0) {
    // Nothing to watch: a plain timed wait (select([], [], [], t)).
    if (hub->sleep(timeout) == WaitStatus::kFailed) return nullptr;
    Py_RETURN_FALSE;
  }
  if (fds.empty()) {
    PyRef value;
    status = hub->park(timeout, &value, publish, waiter);
  } else {
    status = hub->wait_any(fds, timeout, publish, waiter);
  }
  if (waiter) waiter->name = 0;
  switch (status) {
    case WaitStatus::kFailed:
      return nullptr;
    case WaitStatus::kTimedOut:
      Py_RETURN_FALSE;
    case WaitStatus::kReady:
      break;
  }
  Py_RETURN_TRUE;
}

PyMethodDef g_methods[] = {
    {"wait_readable", reinterpret_cast<PyCFunction>(wait_readable), METH_FASTCALL,
     "wait_readable(fd, timeout=None) -> bool (False on timeout)"},
    {"wait_writable", reinterpret_cast<PyCFunction>(wait_writable), METH_FASTCALL,
     "wait_writable(fd, timeout=None) -> bool (False on timeout)"},
    {"wait_any", reinterpret_cast<PyCFunction>(wait_any), METH_FASTCALL,
     "wait_any([(fd, events), ...], timeout=None, waiter=None) -> bool (False on timeout; True when an fd\n"
     "is ready or waiter was woken)"},
    {nullptr, nullptr, 0, nullptr}};

}  // namespace

int add_select_wait(PyObject* module) { return PyModule_AddFunctions(module, g_methods); }

}  // namespace tf::core
