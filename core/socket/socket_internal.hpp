// What socket_ops.cpp shares with ssl_ops.cpp: CPython's socket object,
// a call's deadline, the hub wait for readiness, and the per-fd facts the
// fast paths keep.
#pragma once

#include <Python.h>

#include <cstdint>

namespace tf::core {

// The layout of CPython 3.11's PySocketSockObject (Modules/socketmodule.h).
// add_socket_ops() checks it against _socket.socket's size before use.
struct SockObject {
  PyObject_HEAD
  int sock_fd;
  int sock_family;
  int sock_type;
  int sock_proto;
  PyObject* (*errorhandler)(void);
  _PyTime_t sock_timeout;  // -1: blocking; 0: non-blocking; else the timeout
};

inline SockObject* as_sock(PyObject* o) { return reinterpret_cast<SockObject*>(o); }

// A socket operation's deadline: python3 applies the timeout to each call
// (and to the whole of sendall).
class Deadline {
 public:
  explicit Deadline(SockObject* s) : has_(s->sock_timeout > 0) {
    if (has_) at_ = _PyTime_GetMonotonicClock() + s->sock_timeout;
  }
  // Seconds left (-1: no limit); false with TimeoutError set when none are.
  bool remaining(double* out) const {
    if (!has_) {
      *out = -1;
      return true;
    }
    _PyTime_t left = at_ - _PyTime_GetMonotonicClock();
    if (left <= 0) {
      PyErr_SetString(PyExc_TimeoutError, "timed out");
      return false;
    }
    *out = _PyTime_AsSecondsDouble(left);
    return true;
  }

 private:
  bool has_;
  _PyTime_t at_ = 0;
};

// The engine's file_key for the socket that owns fd (0: none).
uint64_t owner_of(int fd);

// Waits on the hub until the socket is ready for `events` (call only when
// GreenHub::cooperative_here()). False with an exception:
// TimeoutError('timed out'), or whatever was thrown into the greenlet.
bool wait_ready(SockObject* s, short events, const Deadline& deadline);

// The recv heuristic of a level-triggered engine (socket_ops.cpp): whether
// the next read of fd should wait for readiness before it tries, and what
// a try found.
bool recv_should_wait_first(int fd);
void recv_note_try(int fd, bool found_nothing);

}  // namespace tf::core
