#include "core/signal/wait_signals.hpp"

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>

#include "core/task/green_hub.hpp"

namespace tf::core {
namespace {

// wait_signals(signals[, timeout]): sigwait/sigwaitinfo (no timeout) and
// sigtimedwait for the hub: a signalfd for the set, readable on the ring
// (the timeout is the wait's own ring timer). Returns the siginfo fields
// (signo, code, errno, pid, uid, status, band), or None at the timeout;
// NotImplemented when a signal of the set is not blocked in this thread
// (signalfd would never see it: the caller uses the original). A bad
// timeout gets python3's sigtimedwait errors.
PyObject* wait_signals(PyObject*, PyObject* args) {
  PyObject* signals;
  PyObject* timeout_obj = nullptr;
  if (!PyArg_ParseTuple(args, "O|O:wait_signals", &signals, &timeout_obj)) return nullptr;
  _PyTime_t deadline = 0;
  if (timeout_obj) {
    _PyTime_t timeout;
    if (_PyTime_FromSecondsObject(&timeout, timeout_obj, _PyTime_ROUND_CEILING) < 0) return nullptr;
    if (timeout < 0) {
      PyErr_SetString(PyExc_ValueError, "timeout must be non-negative");
      return nullptr;
    }
    deadline = _PyTime_GetMonotonicClock() + timeout;
  }
  sigset_t wanted, blocked;
  sigemptyset(&wanted);
  PyRef items = PyRef::steal(PySequence_Fast(signals, "signals must be iterable"));
  if (!items) return nullptr;
  for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(items.get()); ++i) {
    long signum = PyLong_AsLong(PySequence_Fast_GET_ITEM(items.get(), i));
    if (signum == -1 && PyErr_Occurred()) return nullptr;
    if (signum <= 0 || signum >= NSIG) {
      PyErr_Format(PyExc_ValueError, "signal number %ld out of range [1; %i]", signum, NSIG - 1);
      return nullptr;
    }
    sigaddset(&wanted, static_cast<int>(signum));
  }
  pthread_sigmask(SIG_BLOCK, nullptr, &blocked);
  for (int signum = 1; signum < NSIG; ++signum)
    if (sigismember(&wanted, signum) == 1 && sigismember(&blocked, signum) != 1) Py_RETURN_NOTIMPLEMENTED;
  int fd = signalfd(-1, &wanted, SFD_NONBLOCK | SFD_CLOEXEC);
  if (fd < 0) return PyErr_SetFromErrno(PyExc_OSError);
  PyObject* result = nullptr;
  for (;;) {
    signalfd_siginfo info;
    ssize_t n = ::read(fd, &info, sizeof info);
    if (n == static_cast<ssize_t>(sizeof info)) {
      result = Py_BuildValue("(iiiiIiL)", static_cast<int>(info.ssi_signo), info.ssi_code, info.ssi_errno,
                             static_cast<int>(info.ssi_pid), info.ssi_uid, info.ssi_status,
                             static_cast<long long>(info.ssi_band));
      break;
    }
    if (n < 0 && errno != EAGAIN && errno != EINTR) {
      PyErr_SetFromErrno(PyExc_OSError);
      break;
    }
    double left = -1;
    if (timeout_obj) {
      _PyTime_t rest = deadline - _PyTime_GetMonotonicClock();
      if (rest <= 0) {
        result = Py_NewRef(Py_None);
        break;
      }
      left = _PyTime_AsSecondsDouble(rest);
    }
    int32_t revents;
    if (GreenHub::current()->wait_fd(fd, POLLIN, left, &revents) == WaitStatus::kFailed) break;
  }
  GreenHub::current()->loop().forget_fd(fd);
  ::close(fd);
  return result;
}

PyMethodDef g_methods[] = {
    {"wait_signals", wait_signals, METH_VARARGS,
     "wait_signals(signals[, timeout]): siginfo fields of a pending signal of the set, None at the timeout."},
    {nullptr, nullptr, 0, nullptr}};

}  // namespace

int add_wait_signals(PyObject* module) { return PyModule_AddFunctions(module, g_methods); }

}  // namespace tf::core
