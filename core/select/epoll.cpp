#include "core/select/epoll.hpp"

#include <poll.h>
#include <sys/epoll.h>

#include <climits>
#include <cstring>

#include "core/select/fd_ready.hpp"
#include "core/task/green_hub.hpp"
#include "core/monkey/method_patch.hpp"
#include "core/py_ref.hpp"

namespace tf::core {
namespace {

// CPython 3.11's pyEpoll_Object (Modules/selectmodule.c); checked at patch time.
struct EpollLayout {
  PyObject_HEAD
  int epfd;  // -1 once closed
};

PyObject* g_poll = nullptr;  // the original descriptor

// python3's reading of poll()'s timeout: seconds -> whole milliseconds
// (-1: no limit), with its errors.
bool timeout_ms(PyObject* obj, long long* ms) {
  *ms = -1;
  if (!obj || obj == Py_None) return true;
  _PyTime_t t;
  if (_PyTime_FromSecondsObject(&t, obj, _PyTime_ROUND_TIMEOUT) < 0) {
    if (PyErr_ExceptionMatches(PyExc_TypeError))
      PyErr_SetString(PyExc_TypeError, "timeout must be an integer or None");
    return false;
  }
  _PyTime_t whole = _PyTime_AsMilliseconds(t, _PyTime_ROUND_CEILING);
  if (whole < INT_MIN || whole > INT_MAX) {
    PyErr_SetString(PyExc_OverflowError, "timeout is too large");
    return false;
  }
  *ms = whole < 0 ? -1 : whole;
  return true;
}

// (timeout, maxevents) from poll()'s arguments; false when they are not
// what poll() accepts (the original then reports it without waiting).
bool split_arguments(PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames, PyObject** timeout,
                     PyObject** maxevents) {
  *timeout = nargs > 0 ? args[0] : nullptr;
  *maxevents = nargs > 1 ? args[1] : nullptr;
  if (nargs > 2) return false;
  Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
  for (Py_ssize_t i = 0; i < nkw; ++i) {
    const char* name = PyUnicode_AsUTF8(PyTuple_GET_ITEM(kwnames, i));
    if (!name) {
      PyErr_Clear();
      return false;
    }
    PyObject** slot = std::strcmp(name, "timeout") == 0     ? timeout
                      : std::strcmp(name, "maxevents") == 0 ? maxevents
                                                            : nullptr;
    if (!slot || *slot) return false;
    *slot = args[nargs + i];
  }
  return true;
}

PyObject* cooperative_poll(PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
  PyObject *timeout_obj, *maxevents;
  if (!GreenHub::cooperative_here() || reinterpret_cast<EpollLayout*>(self)->epfd < 0 ||
      !split_arguments(args, nargs, kwnames, &timeout_obj, &maxevents))
    return call_method_fast(g_poll, self, args, nargs, kwnames);
  long long ms;
  if (!timeout_ms(timeout_obj, &ms)) return nullptr;
  PyRef zero = PyRef::steal(PyLong_FromLong(0));
  if (!zero) return nullptr;
  PyObject* now_args[2] = {zero.get(), maxevents};
  Py_ssize_t now_nargs = maxevents ? 2 : 1;
  _PyTime_t deadline = ms >= 0 ? _PyTime_GetMonotonicClock() + ms * 1000 * 1000 : 0;  // _PyTime_t counts nanoseconds
  for (;;) {
    PyRef ready = PyRef::steal(call_method_fast(g_poll, self, now_args, now_nargs));
    if (!ready || PyList_GET_SIZE(ready.get()) > 0 || ms == 0) return ready.release();
    double left = -1;
    if (ms > 0) {
      _PyTime_t rest = deadline - _PyTime_GetMonotonicClock();
      if (rest <= 0) return ready.release();
      left = _PyTime_AsSecondsDouble(rest);
    }
    int epfd = reinterpret_cast<EpollLayout*>(self)->epfd;
    if (epfd < 0) return call_method_fast(g_poll, self, now_args, now_nargs);  // closed meanwhile
    switch (wait_fd_on_hub(epfd, POLLIN, left)) {  // the zero-timeout poll above saw nothing
      case FdReadiness::kFailed:
        return nullptr;
      case FdReadiness::kTimedOut:
        return ready.release();
      case FdReadiness::kReady:
        break;  // collect (a registration may have gone meanwhile: look again)
    }
  }
}

PyMethodDef g_poll_def = {"poll", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(cooperative_poll)),
                          METH_FASTCALL | METH_KEYWORDS, nullptr};

bool layout_matches(PyTypeObject* type) {
  if (type->tp_basicsize != static_cast<Py_ssize_t>(sizeof(EpollLayout))) return false;
  PyRef ep = PyRef::steal(PyObject_CallNoArgs(reinterpret_cast<PyObject*>(type)));
  PyRef fd = ep ? PyRef::steal(PyObject_CallMethod(ep.get(), "fileno", nullptr)) : PyRef();
  bool same = fd && PyLong_AsLong(fd.get()) == reinterpret_cast<EpollLayout*>(ep.get())->epfd;
  PyRef closed = ep ? PyRef::steal(PyObject_CallMethod(ep.get(), "close", nullptr)) : PyRef();
  same = same && closed && reinterpret_cast<EpollLayout*>(ep.get())->epfd < 0;
  PyErr_Clear();
  return same;
}

PyObject* g_ours = nullptr;  // our descriptor, made once

PyObject* cooperative_epoll_poll(PyObject*, PyObject*) {
  PyRef select = PyRef::steal(PyImport_ImportModule("select"));
  PyRef type_object = select ? PyRef::steal(PyObject_GetAttrString(select.get(), "epoll")) : PyRef();
  if (!type_object) return nullptr;
  auto* type = reinterpret_cast<PyTypeObject*>(type_object.get());
  if (!g_ours && !layout_matches(type)) {
    PyErr_SetString(PyExc_RuntimeError, "select.epoll is not laid out as tfpython expects (CPython 3.11)");
    return nullptr;
  }
  return replacement_method(type, &g_poll_def, &g_poll, &g_ours);
}

PyMethodDef g_methods[] = {
    {"cooperative_epoll_poll", cooperative_epoll_poll, METH_NOARGS,
     "cooperative_epoll_poll(): a select.epoll.poll that waits on the hub (the monkey registry puts it\n"
     "in the type)."},
    {nullptr, nullptr, 0, nullptr}};

}  // namespace

int add_select_epoll(PyObject* module) { return PyModule_AddFunctions(module, g_methods); }

}  // namespace tf::core
