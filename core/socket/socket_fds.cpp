// What the socket layer knows of each socket's fd (who owns it, its
// O_NONBLOCK), kept from the moment a socket claims it to its close, and
// the cold helpers built on it: sock_io for the colder socket methods.
#include "core/socket/socket_internal.hpp"

#include <fcntl.h>

#include <cerrno>
#include <vector>

#include "core/py_ref.hpp"
#include "core/task/green_hub.hpp"

namespace tf::core {
std::vector<FdFacts> g_fd_facts;

namespace {
uint64_t g_last_owner = 0;
}  // namespace

bool fd_says_dont_wait(SockObject* s) {
  if (s->sock_timeout >= 0) return false;
  FdFacts* f = facts_of(s->sock_fd);
  if (f && f->nonblocking >= 0) return f->nonblocking;
  bool nonblocking = ::fcntl(s->sock_fd, F_GETFL) & O_NONBLOCK;
  if (f) f->nonblocking = nonblocking;
  return nonblocking;
}

namespace {

// sock_io(sock, events, method, *args): method(sock, *args) with the socket
// made non-blocking for the call; on BlockingIOError wait for `events`
// (within the socket's timeout) and try again. The caller passes flags
// with MSG_DONTWAIT so a blocking-mode fd never blocks the hub.
PyObject* sock_io(PyObject*, PyObject* args) {
  if (PyTuple_GET_SIZE(args) < 3) {
    PyErr_SetString(PyExc_TypeError, "sock_io(sock, events, method, *args)");
    return nullptr;
  }
  PyObject* self = PyTuple_GET_ITEM(args, 0);
  SockObject* s = as_sock(self);
  long events = PyLong_AsLong(PyTuple_GET_ITEM(args, 1));
  if (events == -1 && PyErr_Occurred()) return nullptr;
  PyObject* method = PyTuple_GET_ITEM(args, 2);
  Py_ssize_t extra = PyTuple_GET_SIZE(args) - 3;
  PyRef call_args = PyRef::steal(PyTuple_New(extra + 1));  // (sock, *args)
  if (!call_args) return nullptr;
  PyTuple_SET_ITEM(call_args.get(), 0, Py_NewRef(self));
  for (Py_ssize_t i = 0; i < extra; ++i)
    PyTuple_SET_ITEM(call_args.get(), i + 1, Py_NewRef(PyTuple_GET_ITEM(args, i + 3)));
  Deadline deadline(s);
  for (;;) {
    _PyTime_t saved = s->sock_timeout;
    s->sock_timeout = 0;  // CPython must not poll on its own
    PyObject* r = PyObject_Call(method, call_args.get(), nullptr);
    s->sock_timeout = saved;
    if (r || !PyErr_ExceptionMatches(PyExc_BlockingIOError) || fd_says_dont_wait(s)) return r;
    PyErr_Clear();
    if (!GreenHub::cooperative_here()) {
      PyErr_SetString(PyExc_RuntimeError, "sock_io() outside the hub");
      return nullptr;
    }
    if (!wait_ready(s, static_cast<short>(events), deadline)) return nullptr;
  }
}

// fd_closing(fd): greenlets waiting on fd get OSError(EBADF) now and their
// operations are cancelled, before the fd can be reused.
PyObject* fd_closing(PyObject*, PyObject* arg) {
  int fd = _PyLong_AsInt(arg);
  if (fd == -1 && PyErr_Occurred()) return nullptr;
  recv_note_try(fd, false);  // the next socket with this number learns afresh
  GreenHub* hub = GreenHub::current();
  if (!hub || fd < 0) Py_RETURN_NONE;
  PyRef exc = PyRef::steal(PyObject_CallFunction(PyExc_OSError, "is", EBADF,
                                                 "File descriptor was closed in another greenlet"));
  if (!exc) return nullptr;
  hub->fd_closing(fd, exc.get());
  Py_RETURN_NONE;
}

// claim_fd(sock): sock has just taken its fd (socket.__init__).
PyObject* claim_fd(PyObject*, PyObject* sock) {
  int fd = as_sock(sock)->sock_fd;
  if (fd < 0) Py_RETURN_NONE;
  if (static_cast<size_t>(fd) >= g_fd_facts.size()) g_fd_facts.resize(static_cast<size_t>(fd) + 64);
  g_fd_facts[fd] = FdFacts{++g_last_owner, -1};
  Py_RETURN_NONE;
}

PyMethodDef g_methods[] = {
    {"sock_io", sock_io, METH_VARARGS, "sock_io(sock, events, method, *args)"},
    {"fd_closing", fd_closing, METH_O, "fd_closing(fd): wake and cancel the waiters on fd"},
    {"claim_fd", claim_fd, METH_O, "claim_fd(sock): sock has just taken its fd (from socket.__init__)"},
    {nullptr, nullptr, 0, nullptr}};

}  // namespace

int add_socket_fds(PyObject* module) { return PyModule_AddFunctions(module, g_methods); }

}  // namespace tf::core
