#include "core/ssl/ssl.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>

#include <cstring>

#include "core/task/green_hub.hpp"
#include "core/py_ref.hpp"
#include "core/socket/socket_internal.hpp"
#include "core/ssl/ssl_internal.hpp"
#include "core/ssl/tls_bio.hpp"

namespace tf::core {
namespace {

// The head of CPython 3.11's PySSLSocket (Modules/_ssl.c); the whole is 96
// bytes. Trusted only for an object of exactly that size whose first field
// is a weak reference to the socket it was made for.
struct PySSLSocketHead {
  PyObject_HEAD
  PyObject* Socket;  // weakref to the socket.socket
  SSL* ssl;
};
constexpr Py_ssize_t kPySSLSocketSize = 96;

PyObject* g_ssl_want_read = nullptr;   // ssl.SSLWantReadError
PyObject* g_ssl_want_write = nullptr;  // ssl.SSLWantWriteError
PyObject* g_name_read = nullptr;       // interned method names
PyObject* g_name_write = nullptr;
PyObject* g_name_do_handshake = nullptr;
PyObject* g_name_shutdown = nullptr;
PyObject* g_key_sslobj = nullptr;  // "_sslobj", the key in the SSLSocket's __dict__
PyTypeObject* g_proxy_type = nullptr;

// python3's own timeout messages (Modules/_ssl.c).
constexpr const char* kReadTimeout = "The read operation timed out";
constexpr const char* kWriteTimeout = "The write operation timed out";
constexpr const char* kHandshakeTimeout = "_ssl.c:975: The handshake operation timed out";

// Stands in for the _ssl._SSLSocket an SSLSocket holds as `_sslobj`:
// do_handshake, read, write and shutdown wait on the hub; every other
// attribute is the wrapped object's. It refers to the SSLSocket weakly,
// as the _ssl object does: an SSLSocket dropped without close() is freed
// (and its fd closed) at once, as in python3.
struct SSLProxy {
  PyObject_HEAD
  PyObject* obj;       // the _ssl._SSLSocket
  PyObject* sock_ref;  // weakref to the SSLSocket
  SSL* ssl;            // obj's connection when its BIO was adopted (tls_bio), else nullptr
};

SSLProxy* as_proxy(PyObject* o) { return reinterpret_cast<SSLProxy*>(o); }

// obj.name(*args), without a bound method.
PyObject* call_method(PyObject* obj, PyObject* name, PyObject* const* args, Py_ssize_t nargs) {
  PyObject* stack[4];
  if (nargs > 3) {
    PyRef method = PyRef::steal(PyObject_GetAttr(obj, name));
    return method ? PyObject_Vectorcall(method.get(), args, nargs, nullptr) : nullptr;
  }
  stack[0] = obj;
  for (Py_ssize_t i = 0; i < nargs; ++i) stack[i + 1] = args[i];
  return PyObject_VectorcallMethod(name, stack, (nargs + 1) | PY_VECTORCALL_ARGUMENTS_OFFSET, nullptr);
}

// A TimeoutError from a wait becomes python3's for this operation.
void reword_timeout(const char* message) {
  if (PyErr_ExceptionMatches(PyExc_TimeoutError)) {
    PyErr_Clear();
    PyErr_SetString(PyExc_TimeoutError, message);
  }
}

// Whether a stream socket has nothing to read now (MSG_PEEK: nothing is
// taken from it).
bool nothing_to_read(int fd) {
  char byte;
  return ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

// obj.name(*args), an OpenSSL operation, made cooperatively. CPython is
// told the socket is non-blocking for the call (sock_timeout 0), so that
// OpenSSL's WANT_READ / WANT_WRITE come back as SSLWantReadError /
// SSLWantWriteError instead of CPython polling; then we wait on the hub
// within the socket's timeout and call again. The fd itself must not block
// either: an adopted BIO uses MSG_DONTWAIT for the call (tls_bio); without
// one, a blocking-mode fd is made non-blocking around the call.
PyObject* ssl_call(SSLProxy* self, PyObject* name, const char* timeout_message, PyObject* const* args,
                   Py_ssize_t nargs, bool is_read) {
  if (!self->obj) {  // cleared by the collector, then reached from a finalizer
    PyErr_SetString(PyExc_ValueError, "the SSL object is gone");
    return nullptr;
  }
  PyObject* sock = PyWeakref_GET_OBJECT(self->sock_ref);
  if (sock == Py_None || !GreenHub::cooperative_here() || as_sock(sock)->sock_timeout == 0)
    return call_method(self->obj, name, args, nargs);
  PyRef hold = PyRef::borrow(sock);  // a callback inside the call may drop the last other reference
  SockObject* s = as_sock(sock);
  Deadline deadline(s);
  SSL* ssl = self->ssl;
  // A read that would find the socket empty waits first (the try would
  // cost a failed recv, OpenSSL's error path and an SSLWantReadError):
  // the recv heuristic guesses when. On the level-triggered engine
  // (io_uring) a wait for what is already there ends at once; on the
  // edge-triggered one (epoll) it would not, so a peek (one syscall, no
  // exception) checks the guess first. Only when OpenSSL holds nothing
  // that a read could return without the socket.
  bool level = GreenHub::current()->loop().level_triggered();
  bool learn = is_read && ssl;
  if (learn && recv_should_wait_first(s->sock_fd) && tls_bio::read_needs_socket(ssl) &&
      (level || nothing_to_read(s->sock_fd))) {
    if (!wait_ready(s, POLLIN, deadline)) {
      reword_timeout(timeout_message);
      return nullptr;
    }
    learn = false;  // what the read finds now teaches nothing
  }
  for (;;) {
    int fd = s->sock_fd;
    int fl = -1;
    if (!ssl && s->sock_timeout < 0 && fd >= 0) {
      // (CPython keeps a socket with a timeout non-blocking already.)
      fl = ::fcntl(fd, F_GETFL);
      if (fl >= 0 && !(fl & O_NONBLOCK))
        ::fcntl(fd, F_SETFL, fl | O_NONBLOCK);
      else
        fl = -1;
    }
    _PyTime_t saved = s->sock_timeout;
    s->sock_timeout = 0;
    PyObject* r;
    if (ssl) {
      tls_bio::DontWait dont_wait(ssl);
      r = call_method(self->obj, name, args, nargs);
    } else {
      r = call_method(self->obj, name, args, nargs);
    }
    s->sock_timeout = saved;
    if (fl >= 0) ::fcntl(fd, F_SETFL, fl);
    if (r) {
      if (learn) recv_note_try(fd, false);
      return r;
    }
    short events;
    if (PyErr_ExceptionMatches(g_ssl_want_read)) {
      events = POLLIN;
    } else if (PyErr_ExceptionMatches(g_ssl_want_write)) {
      events = POLLOUT;
    } else {
      return nullptr;
    }
    if (learn) {
      recv_note_try(fd, events == POLLIN);
      learn = false;
    }
    PyErr_Clear();
    if (!wait_ready(s, events, deadline)) {
      reword_timeout(timeout_message);
      return nullptr;
    }
  }
}

PyObject* proxy_do_handshake(PyObject* self, PyObject*) {
  return ssl_call(as_proxy(self), g_name_do_handshake, kHandshakeTimeout, nullptr, 0, false);
}

PyObject* proxy_read(PyObject* self, PyObject* const* args, Py_ssize_t nargs) {
  return ssl_call(as_proxy(self), g_name_read, kReadTimeout, args, nargs, true);
}

PyObject* proxy_write(PyObject* self, PyObject* const* args, Py_ssize_t nargs) {
  return ssl_call(as_proxy(self), g_name_write, kWriteTimeout, args, nargs, false);
}

PyObject* proxy_shutdown(PyObject* self, PyObject*) {
  return ssl_call(as_proxy(self), g_name_shutdown, kReadTimeout, nullptr, 0, false);
}

PyMethodDef g_proxy_methods[] = {
    {"do_handshake", proxy_do_handshake, METH_NOARGS, nullptr},
    {"read", reinterpret_cast<PyCFunction>(proxy_read), METH_FASTCALL, nullptr},
    {"write", reinterpret_cast<PyCFunction>(proxy_write), METH_FASTCALL, nullptr},
    {"shutdown", proxy_shutdown, METH_NOARGS, nullptr},
    {nullptr, nullptr, 0, nullptr}};

// Our four methods, else the wrapped object's attribute.
PyObject* proxy_getattro(PyObject* self, PyObject* name) {
  PyObject* r = PyObject_GenericGetAttr(self, name);
  if (r || !PyErr_ExceptionMatches(PyExc_AttributeError) || !as_proxy(self)->obj) return r;
  PyErr_Clear();
  return PyObject_GetAttr(as_proxy(self)->obj, name);
}

// SSLSocket sets context and session on its _sslobj (an SNI callback
// switches contexts this way): they belong to the wrapped object.
int proxy_setattro(PyObject* self, PyObject* name, PyObject* value) {
  if (!as_proxy(self)->obj) return PyObject_GenericSetAttr(self, name, value);  // (raises)
  return PyObject_SetAttr(as_proxy(self)->obj, name, value);
}

int proxy_traverse(PyObject* self, visitproc visit, void* arg) {
  Py_VISIT(as_proxy(self)->obj);
  Py_VISIT(as_proxy(self)->sock_ref);
  return 0;
}

int proxy_clear(PyObject* self) {
  Py_CLEAR(as_proxy(self)->obj);
  Py_CLEAR(as_proxy(self)->sock_ref);
  return 0;
}

void proxy_dealloc(PyObject* self) {
  PyObject_GC_UnTrack(self);
  proxy_clear(self);
  PyTypeObject* type = Py_TYPE(self);
  type->tp_free(self);
  Py_DECREF(type);
}

// The connection inside obj, when obj is what we expect: a 3.11
// _ssl._SSLSocket made for `sock`.
SSL* connection_of(PyObject* obj, PyObject* sock) {
  PyTypeObject* type = Py_TYPE(obj);
  if (type->tp_basicsize != kPySSLSocketSize || std::strcmp(type->tp_name, "_ssl._SSLSocket") != 0) return nullptr;
  auto* head = reinterpret_cast<PySSLSocketHead*>(obj);
  if (!head->Socket || !PyWeakref_CheckRef(head->Socket) || PyWeakref_GET_OBJECT(head->Socket) != sock)
    return nullptr;
  return head->ssl;
}

// A proxy for obj, the _sslobj of SSLSocket sock; its BIO adopted when it
// can be (before any I/O: SSLSocket sets _sslobj right after making it).
PyObject* make_proxy(PyObject* obj, PyObject* sock) {
  PyRef ref = PyRef::steal(PyWeakref_NewRef(sock, nullptr));
  if (!ref) return nullptr;
  auto* p = PyObject_GC_New(SSLProxy, g_proxy_type);
  if (!p) return nullptr;
  p->obj = Py_NewRef(obj);
  p->sock_ref = ref.release();
  p->ssl = nullptr;
  SSL* ssl = connection_of(obj, sock);
  if (ssl && tls_bio::adopt(ssl, as_sock(sock)->sock_fd)) p->ssl = ssl;
  PyObject_GC_Track(p);
  return reinterpret_cast<PyObject*>(p);
}

// SSLSocket._sslobj, a data descriptor kept in the instance's __dict__
// under its own name (where python3 keeps the attribute): setting it wraps
// an _ssl object in a proxy. C, not a property: SSLSocket reads it two or
// three times per recv and send.
struct SSLObjectSlot {
  PyObject_HEAD
};

PyObject* slot_get(PyObject* self, PyObject* obj, PyObject*) {
  if (!obj) return Py_NewRef(self);
  PyObject** dict = _PyObject_GetDictPtr(obj);
  PyObject* value = dict && *dict ? PyDict_GetItemWithError(*dict, g_key_sslobj) : nullptr;
  if (value) return Py_NewRef(value);
  if (!PyErr_Occurred())
    PyErr_Format(PyExc_AttributeError, "'%.100s' object has no attribute '%U'", Py_TYPE(obj)->tp_name, g_key_sslobj);
  return nullptr;
}

int slot_set(PyObject*, PyObject* obj, PyObject* value) {
  PyRef dict = PyRef::steal(PyObject_GenericGetDict(obj, nullptr));
  if (!dict) return -1;
  if (!value) {
    if (PyDict_DelItem(dict.get(), g_key_sslobj) == 0) return 0;
    if (PyErr_ExceptionMatches(PyExc_KeyError)) {
      PyErr_Clear();
      PyErr_Format(PyExc_AttributeError, "'%.100s' object has no attribute '%U'", Py_TYPE(obj)->tp_name,
                   g_key_sslobj);
    }
    return -1;
  }
  PyRef stored = PyRef::borrow(value);
  if (value != Py_None && !Py_IS_TYPE(value, g_proxy_type)) {
    stored = PyRef::steal(make_proxy(value, obj));
    if (!stored) return -1;
  }
  return PyDict_SetItem(dict.get(), g_key_sslobj, stored.get());
}

void slot_dealloc(PyObject* self) {
  PyTypeObject* type = Py_TYPE(self);
  type->tp_free(self);
  Py_DECREF(type);
}

PyObject* set_ssl_errors(PyObject*, PyObject* args) {
  PyObject *want_read, *want_write;
  if (!PyArg_ParseTuple(args, "OO:set_ssl_errors", &want_read, &want_write)) return nullptr;
  Py_XSETREF(g_ssl_want_read, Py_NewRef(want_read));
  Py_XSETREF(g_ssl_want_write, Py_NewRef(want_write));
  Py_RETURN_NONE;
}

// ssl_bio_adopted(sslsock): whether the connection of an SSLSocket reads
// and writes through the BIO that needs no fcntl (for tests).
PyObject* ssl_bio_adopted(PyObject*, PyObject* sock) {
  PyObject** dict = _PyObject_GetDictPtr(sock);
  PyObject* value = dict && *dict ? PyDict_GetItemWithError(*dict, g_key_sslobj) : nullptr;
  if (!value && PyErr_Occurred()) return nullptr;
  return PyBool_FromLong(value && Py_IS_TYPE(value, g_proxy_type) && as_proxy(value)->ssl);
}

PyMethodDef g_helpers[] = {
    {"set_ssl_errors", set_ssl_errors, METH_VARARGS, "set_ssl_errors(SSLWantReadError, SSLWantWriteError)"},
    {"ssl_bio_adopted", ssl_bio_adopted, METH_O,
     "ssl_bio_adopted(sslsock): its connection needs no fcntl around each TLS call"},
    {nullptr, nullptr, 0, nullptr}};

bool intern(PyObject** out, const char* text) {
  *out = PyUnicode_InternFromString(text);
  return *out != nullptr;
}

}  // namespace

namespace ssl_object {

bool is_cooperative(PyObject* obj) { return g_proxy_type && Py_IS_TYPE(obj, g_proxy_type); }

PyObject* of_socket(PyObject* sslsock) {
  PyObject** dict = _PyObject_GetDictPtr(sslsock);
  return dict && *dict ? PyDict_GetItemWithError(*dict, g_key_sslobj) : nullptr;
}

PyObject* read(PyObject* proxy, PyObject* const* args, Py_ssize_t nargs) { return proxy_read(proxy, args, nargs); }

PyObject* write(PyObject* proxy, PyObject* data) { return proxy_write(proxy, &data, 1); }

}  // namespace ssl_object

int add_ssl(PyObject* module) {
  if (!intern(&g_name_read, "read") || !intern(&g_name_write, "write") ||
      !intern(&g_name_do_handshake, "do_handshake") || !intern(&g_name_shutdown, "shutdown") ||
      !intern(&g_key_sslobj, "_sslobj"))
    return -1;
  PyType_Slot proxy_slots[] = {
      {Py_tp_methods, g_proxy_methods},
      {Py_tp_getattro, reinterpret_cast<void*>(proxy_getattro)},
      {Py_tp_setattro, reinterpret_cast<void*>(proxy_setattro)},
      {Py_tp_traverse, reinterpret_cast<void*>(proxy_traverse)},
      {Py_tp_clear, reinterpret_cast<void*>(proxy_clear)},
      {Py_tp_dealloc, reinterpret_cast<void*>(proxy_dealloc)},
      {Py_tp_doc, const_cast<char*>("Stands in for the _ssl._SSLSocket of a cooperative SSLSocket.")},
      {0, nullptr}};
  PyType_Spec proxy_spec = {"_framework_core.CooperativeSSLObject", sizeof(SSLProxy), 0,
                            Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_DISALLOW_INSTANTIATION,
                            proxy_slots};
  PyObject* proxy = PyType_FromSpec(&proxy_spec);
  if (!proxy) return -1;
  g_proxy_type = reinterpret_cast<PyTypeObject*>(Py_NewRef(proxy));
  if (PyModule_AddObject(module, "CooperativeSSLObject", proxy) < 0) {
    Py_DECREF(proxy);
    return -1;
  }
  PyType_Slot slot_slots[] = {
      {Py_tp_descr_get, reinterpret_cast<void*>(slot_get)},
      {Py_tp_descr_set, reinterpret_cast<void*>(slot_set)},
      {Py_tp_dealloc, reinterpret_cast<void*>(slot_dealloc)},
      {Py_tp_doc, const_cast<char*>("SSLSocket._sslobj: wraps the _ssl object it is given.")},
      {0, nullptr}};
  PyType_Spec slot_spec = {"_framework_core.SSLObjectSlot", sizeof(SSLObjectSlot), 0, Py_TPFLAGS_DEFAULT,
                           slot_slots};
  PyObject* slot = PyType_FromSpec(&slot_spec);
  if (!slot || PyModule_AddObject(module, "SSLObjectSlot", slot) < 0) {
    Py_XDECREF(slot);
    return -1;
  }
  if (PyModule_AddFunctions(module, g_helpers) < 0) return -1;
  return add_ssl_socket(module);
}

}  // namespace tf::core
