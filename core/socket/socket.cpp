#include "core/socket/socket.hpp"
#include "core/socket/socket_internal.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <vector>

#include "core/task/green_hub.hpp"
#include "core/monkey/method_patch.hpp"
#include "core/py_ref.hpp"

namespace tf::core {
namespace {

struct Originals {
  PyObject* recv = nullptr;
  PyObject* recv_into = nullptr;
  PyObject* send = nullptr;
  PyObject* sendall = nullptr;
  PyObject* accept = nullptr;
  PyObject* connect = nullptr;
  PyObject* connect_ex = nullptr;
  PyObject* setblocking = nullptr;
  PyObject* settimeout = nullptr;
} g_orig;

// Inside a hub-driven greenlet, on a socket that may wait.
bool cooperative(SockObject* s) { return s->sock_timeout != 0 && GreenHub::cooperative_here(); }

PyObject* call_original(PyObject* method, PyObject* self, PyObject* args, PyObject* kwargs = nullptr) {
  Py_ssize_t n = args ? PyTuple_GET_SIZE(args) : 0;  // METH_NOARGS passes no tuple
  PyRef full = PyRef::steal(PyTuple_New(n + 1));
  if (!full) return nullptr;
  PyTuple_SET_ITEM(full.get(), 0, Py_NewRef(self));
  for (Py_ssize_t i = 0; i < n; ++i) PyTuple_SET_ITEM(full.get(), i + 1, Py_NewRef(PyTuple_GET_ITEM(args, i)));
  return PyObject_Call(method, full.get(), kwargs);
}

}  // namespace

bool wait_ready(SockObject* s, short events, const Deadline& deadline) {
  double left;
  if (!deadline.remaining(&left)) return false;
  int32_t revents;
  switch (GreenHub::current()->wait_fd(s->sock_fd, events, left, &revents, owner_of(s->sock_fd))) {
    case WaitStatus::kFailed:
      return false;
    case WaitStatus::kTimedOut:
      PyErr_SetString(PyExc_TimeoutError, "timed out");
      return false;
    case WaitStatus::kReady:
      return true;
  }
  return true;
}

namespace {

bool would_block(int err) { return err == EAGAIN || err == EWOULDBLOCK; }

// A socket whose recv() found nothing the last time it was tried (a
// ping-pong peer that has not answered yet) is waited on first: the try
// would fail again and cost a syscall. Every 16th such recv tries first
// anyway, to notice when data starts to be there already. A heuristic: it
// decides the order of two steps, never the outcome. Per OS thread, as
// hubs are; indexed by fd (bit 0: found nothing; the rest: a counter).
class RecvHabits {
 public:
  bool should_wait_first(int fd) {
    if (fd < 0 || static_cast<size_t>(fd) >= habits_.size()) return false;
    uint8_t& h = habits_[fd];
    if (!(h & 1)) return false;
    h = static_cast<uint8_t>(h + 2);
    return (h >> 1) % 16 != 0;
  }
  void note_try(int fd, bool found_nothing) {
    if (fd < 0) return;
    if (static_cast<size_t>(fd) >= habits_.size()) {
      if (!found_nothing) return;
      habits_.resize(fd + 64);
    }
    habits_[fd] = found_nothing ? (habits_[fd] | 1) : 0;
  }

 private:
  std::vector<uint8_t> habits_;
};

thread_local RecvHabits t_recv_habits;

}  // namespace

bool recv_should_wait_first(int fd) { return t_recv_habits.should_wait_first(fd); }
void recv_note_try(int fd, bool found_nothing) { t_recv_habits.note_try(fd, found_nothing); }

namespace {

// Where recv_cooperative reads to: the caller's buffer (recv_into), or a
// bytes object (recv) made only when a try is about to be made and dropped
// again while the caller waits with nothing in it, so that a parked recv
// holds no buffer (python3's holds its bytes object for the whole wait:
// 4 KiB per idle connection for a recv(4096)). On the path that waits first
// (the recv heuristic below) no buffer is made before the wait at all.
struct RecvTarget {
  char* buf;                  // the caller's, or null for recv
  PyObject* bytes = nullptr;  // recv's, once made
  // The buffer for a try; null with MemoryError set.
  char* get(Py_ssize_t n) {
    if (buf) return buf;
    if (!bytes && !(bytes = PyBytes_FromStringAndSize(nullptr, n))) return nullptr;
    return PyBytes_AS_STRING(bytes);
  }
  // Before a wait: nothing read yet, so recv's buffer can go.
  void drop_if_empty(Py_ssize_t total) {
    if (!total) Py_CLEAR(bytes);
  }
};

// recv() into the target until something arrives (or all n bytes for
// MSG_WAITALL on a blocking socket, as the kernel would). -1 with an
// exception.
Py_ssize_t recv_cooperative(SockObject* s, RecvTarget& target, Py_ssize_t n, int flags) {
  Deadline deadline(s);
  bool wait_all = (flags & MSG_WAITALL) && s->sock_timeout < 0;
  GreenHub* hub = GreenHub::current();
  hub::Loop& loop = hub->loop();
  uint64_t owner = owner_of(s->sock_fd);
  // Wait before trying when the try would find nothing: on a level-triggered
  // engine a guess is safe (a wait for what is there ends at once); on an
  // edge-triggered one only what the engine knows is.
  bool level = loop.level_triggered();
  bool tried = false;  // a plain try was made (its outcome teaches the heuristic)
  if (flags == 0 && (level ? t_recv_habits.should_wait_first(s->sock_fd)
                           : loop.known_not_ready(s->sock_fd, POLLIN, owner))) {
    if (!wait_ready(s, POLLIN, deadline)) return -1;
  } else {
    tried = level;
  }
  Py_ssize_t total = 0;
  for (;;) {
    char* buf = target.get(n);
    if (!buf) return -1;
    ssize_t r = ::recv(s->sock_fd, buf + total, static_cast<size_t>(n - total), flags | MSG_DONTWAIT);
    int err = r < 0 ? errno : 0;
    bool dont_wait = r < 0 && would_block(err) && fd_says_dont_wait(s);
    if (tried) {
      t_recv_habits.note_try(s->sock_fd, r < 0 && would_block(err) && !dont_wait);
      tried = false;
    }
    if (r >= 0) {
      // A stream socket that gave less than was asked has nothing left.
      if (!level && r > 0 && r < n - total && !(flags & MSG_PEEK) && (s->sock_type & 0xf) == SOCK_STREAM)
        loop.note_not_ready(s->sock_fd, POLLIN, owner);
      total += r;
      if (!wait_all || r == 0 || total == n) {
        // Data was there at once: still give the others their turn now and then.
        if (hub->yield_if_due() == WaitStatus::kFailed) return -1;
        return total;
      }
      continue;
    }
    if (err == EINTR) {
      if (PyErr_CheckSignals() < 0) return -1;
      continue;
    }
    if (would_block(err) && !(flags & MSG_DONTWAIT) && !dont_wait) {
      target.drop_if_empty(total);
      if (!wait_ready(s, POLLIN, deadline)) return -1;
      continue;
    }
    errno = err;
    PyErr_SetFromErrno(PyExc_OSError);
    return -1;
  }
}

// send() once something can be sent. -1 with an exception.
Py_ssize_t send_cooperative(SockObject* s, const char* buf, Py_ssize_t n, int flags, const Deadline& deadline) {
  for (;;) {
    ssize_t r = ::send(s->sock_fd, buf, static_cast<size_t>(n), flags | MSG_DONTWAIT);
    if (r >= 0) return r;
    int err = errno;
    if (err == EINTR) {
      if (PyErr_CheckSignals() < 0) return -1;
      continue;
    }
    if (would_block(err) && !(flags & MSG_DONTWAIT) && !fd_says_dont_wait(s)) {
      if (!wait_ready(s, POLLOUT, deadline)) return -1;
      continue;
    }
    errno = err;
    PyErr_SetFromErrno(PyExc_OSError);
    return -1;
  }
}

// ------------------------------------------------------------ hot path --

// recv, send and sendall take their arguments as python3's do (same
// formats, same errors) but without an argument tuple: METH_FASTCALL. A
// tuple made before a wait and freed after it is cold by then (with a
// thousand connections, a cache miss per message).
PyObject* sock_recv(PyObject* self, PyObject* const* args, Py_ssize_t nargs) {
  SockObject* s = as_sock(self);
  if (!cooperative(s)) return call_with_self(g_orig.recv, self, args, nargs);
  Py_ssize_t n;
  int flags = 0;
  if (!_PyArg_ParseStack(args, nargs, "n|i:recv", &n, &flags)) return nullptr;
  if (n < 0) {
    PyErr_SetString(PyExc_ValueError, "negative buffersize in recv");
    return nullptr;
  }
  RecvTarget target{nullptr};
  Py_ssize_t got = recv_cooperative(s, target, n, flags);
  PyObject* bytes = target.bytes;
  if (got < 0) {
    Py_XDECREF(bytes);
    return nullptr;
  }
  if (got != n) _PyBytes_Resize(&bytes, got);
  return bytes;
}

PyObject* sock_recv_into(PyObject* self, PyObject* args, PyObject* kwargs) {
  SockObject* s = as_sock(self);
  if (!cooperative(s)) return call_original(g_orig.recv_into, self, args, kwargs);
  static const char* keywords[] = {"buffer", "nbytes", "flags", nullptr};
  Py_buffer view;
  Py_ssize_t n = 0;
  int flags = 0;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "w*|ni:recv_into", const_cast<char**>(keywords), &view,
                                   &n, &flags))
    return nullptr;
  // The caller's buffer is written by our own recv() call, synchronously:
  // no kernel operation ever holds a pointer into it.
  Py_ssize_t got = -1;
  if (n < 0) {
    PyErr_SetString(PyExc_ValueError, "negative buffersize in recv_into");
  } else if (n > view.len) {
    PyErr_SetString(PyExc_ValueError, "buffer too small for requested bytes");
  } else {
    RecvTarget target{static_cast<char*>(view.buf)};
    got = recv_cooperative(s, target, n ? n : view.len, flags);
  }
  PyBuffer_Release(&view);
  return got < 0 ? nullptr : PyLong_FromSsize_t(got);
}

PyObject* sock_send(PyObject* self, PyObject* const* args, Py_ssize_t nargs) {
  SockObject* s = as_sock(self);
  if (!cooperative(s)) return call_with_self(g_orig.send, self, args, nargs);
  Py_buffer view;
  int flags = 0;
  if (!_PyArg_ParseStack(args, nargs, "y*|i:send", &view, &flags)) return nullptr;
  Deadline deadline(s);
  Py_ssize_t sent = send_cooperative(s, static_cast<const char*>(view.buf), view.len, flags, deadline);
  PyBuffer_Release(&view);
  return sent < 0 ? nullptr : PyLong_FromSsize_t(sent);
}

PyObject* sock_sendall(PyObject* self, PyObject* const* args, Py_ssize_t nargs) {
  SockObject* s = as_sock(self);
  if (!cooperative(s)) return call_with_self(g_orig.sendall, self, args, nargs);
  Py_buffer view;
  int flags = 0;
  if (!_PyArg_ParseStack(args, nargs, "y*|i:sendall", &view, &flags)) return nullptr;
  // Streams straight from the caller's buffer (a large memoryview is never
  // copied); the timeout covers the whole call, as in python3.
  Deadline deadline(s);
  const char* p = static_cast<const char*>(view.buf);
  Py_ssize_t left = view.len;
  bool ok = true;
  while (left > 0) {
    Py_ssize_t sent = send_cooperative(s, p, left, flags, deadline);
    if (sent < 0 || PyErr_CheckSignals() < 0) {
      ok = false;
      break;
    }
    p += sent;
    left -= sent;
  }
  PyBuffer_Release(&view);
  if (!ok) return nullptr;
  Py_RETURN_NONE;
}

// The address tuple python3 gives for a peer (makesockaddr), for the
// families served here; nullptr without an exception for the others.
PyObject* make_address(const sockaddr_storage& addr, socklen_t len, int family) {
  switch (family) {
    case AF_INET:
    case AF_INET6: {
      char host[NI_MAXHOST];
      int rc = ::getnameinfo(reinterpret_cast<const sockaddr*>(&addr), len, host, sizeof host, nullptr, 0,
                             NI_NUMERICHOST);
      if (rc != 0) {
        PyErr_SetString(PyExc_OSError, gai_strerror(rc));
        return nullptr;
      }
      if (family == AF_INET) {
        auto* a = reinterpret_cast<const sockaddr_in*>(&addr);
        return Py_BuildValue("(si)", host, ntohs(a->sin_port));
      }
      auto* a = reinterpret_cast<const sockaddr_in6*>(&addr);
      return Py_BuildValue("(siII)", host, ntohs(a->sin6_port), ntohl(a->sin6_flowinfo), a->sin6_scope_id);
    }
    case AF_UNIX: {
      auto* a = reinterpret_cast<const sockaddr_un*>(&addr);
      size_t path_len = len > offsetof(sockaddr_un, sun_path) ? len - offsetof(sockaddr_un, sun_path) : 0;
      if (path_len > 0 && a->sun_path[0] == 0)  // the Linux abstract namespace
        return PyBytes_FromStringAndSize(a->sun_path, static_cast<Py_ssize_t>(path_len));
      return PyUnicode_DecodeFSDefault(a->sun_path);
    }
    default:
      return nullptr;
  }
}

PyObject* accepted(int fd, const sockaddr_storage& addr, socklen_t len, int family) {
  PyObject* address = make_address(addr, len, family);
  if (!address) {
    ::close(fd);
    return nullptr;
  }
  return Py_BuildValue("(iN)", fd, address);
}

PyObject* sock_accept(PyObject* self, PyObject* args) {
  SockObject* s = as_sock(self);
  int family = s->sock_family;
  bool known_family = family == AF_INET || family == AF_INET6 || family == AF_UNIX;
  if (!cooperative(s) || !known_family) return call_original(g_orig.accept, self, args);
  GreenHub* hub = GreenHub::current();
  OrphanConnection orphan;
  if (hub->take_orphan(s->sock_fd, &orphan)) return accepted(orphan.fd, orphan.address, orphan.address_len, family);
  Deadline deadline(s);
  // (A blocking listener whose fd is non-blocking all the same is tried
  // once, as under python3; the flag is read once per socket and mode.)
  bool fd_nonblocking = fd_says_dont_wait(s);
  if (s->sock_timeout < 0 && !fd_nonblocking) {
    // A blocking listener cannot be tried without blocking the hub: the
    // kernel accepts for us (and a late accept is kept as an orphan).
    int32_t res;
    sockaddr_storage addr{};
    socklen_t len = 0;
    switch (hub->wait_accept(s->sock_fd, SOCK_CLOEXEC, -1, &res, &addr, &len, owner_of(s->sock_fd))) {
      case WaitStatus::kFailed:
        return nullptr;
      case WaitStatus::kTimedOut:
        PyErr_SetString(PyExc_TimeoutError, "timed out");
        return nullptr;
      case WaitStatus::kReady:
        break;
    }
    if (res < 0) {
      errno = -res;
      return PyErr_SetFromErrno(PyExc_OSError);
    }
    return accepted(res, addr, len, family);
  }
  for (;;) {
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    int fd = ::accept4(s->sock_fd, reinterpret_cast<sockaddr*>(&addr), &len, SOCK_CLOEXEC);
    if (fd >= 0) return accepted(fd, addr, len, family);
    int err = errno;
    if (err == EINTR) {
      if (PyErr_CheckSignals() < 0) return nullptr;
      continue;
    }
    if (would_block(err) && !fd_nonblocking) {
      if (!wait_ready(s, POLLIN, deadline)) return nullptr;
      continue;
    }
    errno = err;
    return PyErr_SetFromErrno(PyExc_OSError);
  }
}

PyObject* g_resolver = nullptr;  // theframework: resolve a host name off the hub

// Starts a connect on the socket without blocking the thread; then waits
// for it on the ring. 0 or an errno; -1 with an exception set (python3's
// errors for bad addresses come from the original connect itself).
int connect_cooperative(SockObject* s, PyObject* self, PyObject* address) {
  PyRef numeric = PyRef::borrow(address);
  if (g_resolver) {
    numeric = PyRef::steal(PyObject_CallFunctionObjArgs(g_resolver, self, address, nullptr));
    if (!numeric) return -1;
  }
  int fd = s->sock_fd;
  int fl = ::fcntl(fd, F_GETFL);
  bool was_blocking = fl >= 0 && !(fl & O_NONBLOCK);
  // A blocking-mode socket is connected without blocking the thread: it is
  // not connected yet, so nobody else can be using it meanwhile.
  if (was_blocking) ::fcntl(fd, F_SETFL, fl | O_NONBLOCK);
  _PyTime_t saved = s->sock_timeout;
  s->sock_timeout = 0;
  PyRef r = PyRef::steal(PyObject_CallFunctionObjArgs(g_orig.connect, self, numeric.get(), nullptr));
  s->sock_timeout = saved;
  if (was_blocking) ::fcntl(fd, F_SETFL, fl);
  if (r) return 0;
  if (!PyErr_ExceptionMatches(PyExc_OSError)) return -1;
  PyObject *type, *value, *tb;
  PyErr_Fetch(&type, &value, &tb);
  PyErr_NormalizeException(&type, &value, &tb);
  int err = reinterpret_cast<PyOSErrorObject*>(value)->myerrno
                ? static_cast<int>(PyLong_AsLong(reinterpret_cast<PyOSErrorObject*>(value)->myerrno))
                : 0;
  if (err != EINPROGRESS && err != EWOULDBLOCK) {
    PyErr_Restore(type, value, tb);
    return err > 0 ? -2 : -1;  // -2: a connect error (errno known), re-raised as is
  }
  Py_XDECREF(type);
  Py_XDECREF(value);
  Py_XDECREF(tb);
  Deadline deadline(s);
  if (!wait_ready(s, POLLOUT, deadline)) return -1;
  int so_error = 0;
  socklen_t len = sizeof so_error;
  if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len) < 0) so_error = errno;
  return so_error;
}

PyObject* sock_connect_method(PyObject* self, PyObject* address) {
  SockObject* s = as_sock(self);
  if (!cooperative(s)) return PyObject_CallFunctionObjArgs(g_orig.connect, self, address, nullptr);
  int err = connect_cooperative(s, self, address);
  if (err < 0) return nullptr;
  if (err > 0) {
    errno = err;
    return PyErr_SetFromErrno(PyExc_OSError);
  }
  Py_RETURN_NONE;
}

PyObject* sock_connect_ex_method(PyObject* self, PyObject* address) {
  SockObject* s = as_sock(self);
  if (!cooperative(s)) return PyObject_CallFunctionObjArgs(g_orig.connect_ex, self, address, nullptr);
  int err = connect_cooperative(s, self, address);
  if (err == -2) {
    // connect_ex reports connect errors as a number, as python3's does.
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    PyObject* number = reinterpret_cast<PyOSErrorObject*>(value)->myerrno;
    PyObject* result = Py_NewRef(number);
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(tb);
    return result;
  }
  if (err < 0) {
    if (PyErr_ExceptionMatches(PyExc_TimeoutError)) {
      PyErr_Clear();
      return PyLong_FromLong(EWOULDBLOCK);  // python3's connect_ex at its timeout
    }
    return nullptr;
  }
  return PyLong_FromLong(err);
}

// setblocking and settimeout set the fd's flag: what fd_says_dont_wait
// read of it goes.
PyObject* sock_setblocking(PyObject* self, PyObject* arg) {
  PyObject* r = PyObject_CallFunctionObjArgs(g_orig.setblocking, self, arg, nullptr);
  if (FdFacts* f = facts_of(as_sock(self)->sock_fd)) f->nonblocking = -1;
  return r;
}

PyObject* sock_settimeout(PyObject* self, PyObject* arg) {
  PyObject* r = PyObject_CallFunctionObjArgs(g_orig.settimeout, self, arg, nullptr);
  if (FdFacts* f = facts_of(as_sock(self)->sock_fd)) f->nonblocking = -1;
  return r;
}

PyMethodDef g_socket_methods[] = {
    {"connect", sock_connect_method, METH_O, nullptr},
    {"connect_ex", sock_connect_ex_method, METH_O, nullptr},
    {"recv", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(sock_recv)), METH_FASTCALL, nullptr},
    {"recv_into", reinterpret_cast<PyCFunction>(sock_recv_into), METH_VARARGS | METH_KEYWORDS, nullptr},
    {"send", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(sock_send)), METH_FASTCALL, nullptr},
    {"sendall", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(sock_sendall)), METH_FASTCALL, nullptr},
    {"_accept", sock_accept, METH_NOARGS, nullptr},
    {"setblocking", sock_setblocking, METH_O, nullptr},
    {"settimeout", sock_settimeout, METH_O, nullptr},
    {nullptr, nullptr, 0, nullptr}};

// ------------------------------------------------------- colder helpers --

PyObject* set_address_resolver(PyObject*, PyObject* fn) {
  Py_XSETREF(g_resolver, Py_NewRef(fn));
  Py_RETURN_NONE;
}

PyMethodDef g_helpers[] = {
    {"set_address_resolver", set_address_resolver, METH_O,
     "set_address_resolver(fn): fn(sock, address) -> address with a numeric host"},
    {nullptr, nullptr, 0, nullptr}};

PyObject* get_original(PyObject* type, const char* name) { return PyObject_GetAttrString(type, name); }

}  // namespace

int add_socket(PyObject* module) {
  PyRef sockmod = PyRef::steal(PyImport_ImportModule("_socket"));
  if (!sockmod) return -1;
  PyRef base = PyRef::steal(PyObject_GetAttrString(sockmod.get(), "socket"));
  if (!base || !PyType_Check(base.get())) return -1;
  auto* base_type = reinterpret_cast<PyTypeObject*>(base.get());
  if (base_type->tp_basicsize != static_cast<Py_ssize_t>(sizeof(SockObject))) {
    PyErr_SetString(PyExc_ImportError, "_socket.socket has an unexpected layout; not CPython 3.11?");
    return -1;
  }
  if (!(g_orig.recv = get_original(base.get(), "recv")) ||
      !(g_orig.recv_into = get_original(base.get(), "recv_into")) ||
      !(g_orig.send = get_original(base.get(), "send")) ||
      !(g_orig.sendall = get_original(base.get(), "sendall")) ||
      !(g_orig.accept = get_original(base.get(), "_accept")) ||
      !(g_orig.connect = get_original(base.get(), "connect")) ||
      !(g_orig.connect_ex = get_original(base.get(), "connect_ex")) ||
      !(g_orig.setblocking = get_original(base.get(), "setblocking")) ||
      !(g_orig.settimeout = get_original(base.get(), "settimeout")))
    return -1;
  for (PyMethodDef* def = g_socket_methods; def->ml_name; ++def) {
    // The docstrings are the originals'.
    PyRef original = PyRef::steal(PyObject_GetAttrString(base.get(), def->ml_name));
    if (original && Py_IS_TYPE(original.get(), &PyMethodDescr_Type))
      def->ml_doc = reinterpret_cast<PyMethodDescrObject*>(original.get())->d_method->ml_doc;
  }
  PyType_Slot slots[] = {{Py_tp_methods, g_socket_methods},
                         {Py_tp_doc, const_cast<char*>("Cooperative hot path of theframework's socket.")},
                         {0, nullptr}};
  PyType_Spec spec = {"_framework_core.socket", 0, 0, Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE, slots};
  PyObject* type = PyType_FromSpecWithBases(&spec, base.get());
  if (!type || PyModule_AddObject(module, "SocketBase", type) < 0) return -1;
  if (PyModule_AddFunctions(module, g_helpers) < 0) return -1;
  return add_socket_fds(module);
}

}  // namespace tf::core
