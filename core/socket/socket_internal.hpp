// What socket.cpp shares with socket_fds.cpp and ssl/ssl.cpp: CPython's socket object,
// a call's deadline, the hub wait for readiness, and the per-fd facts the
// fast paths keep.
#pragma once

#include <Python.h>

#include <cstdint>
#include <vector>

namespace tf::core {

// The layout of CPython 3.11's PySocketSockObject (Modules/socketmodule.h).
// add_socket() checks it against _socket.socket's size before use.
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

// ---- socket_fds.cpp
// What we know of each socket's fd, indexed by fd; read and written with
// the GIL held.
struct FdFacts {
  // Who owns the fd, as the engine's file_key (hub::Loop::start_poll): a
  // number a socket object gets when it takes its fd (claim_fd, from
  // socket.__init__), never given twice. An engine may trust what it learnt
  // of an fd across waits only while the same owner waits on it, so a
  // registration the kernel dropped when the fd was closed (by close(), by
  // the collector, on another thread) is never trusted for the next file
  // that gets the number.
  uint64_t owner = 0;
  // The fd's O_NONBLOCK as last read (-1: not read since the claim or since
  // the socket last set its mode), for fd_says_dont_wait.
  int8_t nonblocking = -1;
};

// Indexed by fd; grown by claim_fd (socket_fds.cpp). Read inline: every
// recv and wait asks for the fd's owner.
extern std::vector<FdFacts> g_fd_facts;

// The facts of fd, or nullptr when it was never claimed.
inline FdFacts* facts_of(int fd) {
  return fd >= 0 && static_cast<size_t>(fd) < g_fd_facts.size() ? &g_fd_facts[fd] : nullptr;
}
// The engine's file_key for the socket that owns fd (0: none).
inline uint64_t owner_of(int fd) {
  FdFacts* f = facts_of(fd);
  return f ? f->owner : 0;
}
// A socket in blocking mode (timeout None) whose fd is non-blocking all the
// same (fromfd() of a non-blocking socket, an inherited fd, another
// library's fcntl): as under python3, the fd's own flag rules and a call
// that would block raises BlockingIOError. Asked only once a call found
// nothing to do, and the flag read once per socket and mode (the socket's
// own setblocking/settimeout set it; a change made with fcntl behind the
// socket's back after that is not seen).
bool fd_says_dont_wait(SockObject* s);
// Adds sock_io, fd_closing, claim_fd. -1 on error.
int add_socket_fds(PyObject* module);

// Waits on the hub until the socket is ready for `events` (call only when
// GreenHub::cooperative_here()). False with an exception:
// TimeoutError('timed out'), or whatever was thrown into the greenlet.
bool wait_ready(SockObject* s, short events, const Deadline& deadline);

// The recv heuristic of a level-triggered engine (socket.cpp): whether
// the next read of fd should wait for readiness before it tries, and what
// a try found.
bool recv_should_wait_first(int fd);
void recv_note_try(int fd, bool found_nothing);

}  // namespace tf::core
