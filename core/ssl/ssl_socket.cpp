// SSLSocket's recv, recv_into, read, send, sendall and write in C, as
// methods of the cooperative SSLSocket class (cooperative_ssl.py).
//
// python3's are pure Python (Lib/ssl.py): recv -> read -> _sslobj.read,
// sendall -> memoryview, cast, slice -> send -> _sslobj.write. For a small
// TLS message that Python costs about a third of the process's user time
// (64-byte echo: 1.2 of 3.8 µs). These do what those do, for the plain
// case only: the class's own methods (no subclass override, nothing set on
// the instance), our _ssl object, flags 0, the parameters python3 names.
// Anything else is handed, untouched, to python3's method, which then
// raises its own errors. Only tracebacks differ: they show no ssl.py
// frames for these calls.
#include <memory>
#include <string>
#include <vector>

#include "core/monkey/method_patch.hpp"
#include "core/py_ref.hpp"
#include "core/ssl/ssl_internal.hpp"

namespace tf::core {
namespace {

enum Method { kRecv, kRecvInto, kRead, kSend, kSendall, kWrite, kMethods };

// What one cooperative SSLSocket class needs (there is one per patched ssl
// module: a fresh import makes another).
struct ClassState {
  PyTypeObject* cls = nullptr;           // our SSLSocket
  PyObject* python3[kMethods] = {};      // ssl.SSLSocket.recv, ... (functions)
  PyObject* ours[kMethods] = {};         // the method descriptors put on cls
  PyObject* check_closed = nullptr;      // ssl.SSLSocket._checkClosed
  PyObject* sslobj_slot = nullptr;       // cls.__dict__["_sslobj"]
  PyObject* ssl_error = nullptr;         // ssl.SSLError
  PyObject* eof_code = nullptr;          // ssl.SSL_ERROR_EOF
  PyTypeObject* plain_type = nullptr;    // last type found plain, and its version tag
  unsigned int plain_tag = 0;
};

std::vector<ClassState*> g_states;  // never freed: classes live as long as their module

// Interned names.
PyObject* g_check_closed_name;
PyObject* g_read_name;
PyObject* g_send_name;
PyObject* g_sslobj_name;
PyObject* g_suppress_name;
PyObject* g_default_len;  // 1024, python3's default for len, buflen and nbytes

const char* const kNames[kMethods] = {"recv", "recv_into", "read", "send", "sendall", "write"};

// Parameter names of each method, after self (interned at start).
PyObject* g_params[kMethods][3];
const char* const kParamNames[kMethods][3] = {{"buflen", "flags", nullptr},   {"buffer", "nbytes", "flags"},
                                              {"len", "buffer", nullptr},     {"data", "flags", nullptr},
                                              {"data", "flags", nullptr},     {"data", nullptr, nullptr}};

ClassState* state_of(PyTypeObject* defining_class) {
  for (ClassState* s : g_states)
    if (s->cls == defining_class) return s;
  return nullptr;
}

// Whether `type` resolves every name the fast paths skip to python3's (or
// our) value: no subclass overrides _checkClosed, read, send or _sslobj.
// Cached on the type's version tag, which any change to it or its bases
// resets.
bool type_is_plain(ClassState* st, PyTypeObject* type) {
  if (type == st->plain_type && (type->tp_flags & Py_TPFLAGS_VALID_VERSION_TAG) && type->tp_version_tag == st->plain_tag)
    return true;
  bool plain = _PyType_Lookup(type, g_check_closed_name) == st->check_closed &&
               _PyType_Lookup(type, g_read_name) == st->ours[kRead] &&
               _PyType_Lookup(type, g_send_name) == st->ours[kSend] &&
               _PyType_Lookup(type, g_sslobj_name) == st->sslobj_slot;
  if (plain && (type->tp_flags & Py_TPFLAGS_VALID_VERSION_TAG)) {
    st->plain_type = type;
    st->plain_tag = type->tp_version_tag;
  }
  return plain;
}

// The cooperative _ssl object of `self` (a new reference) when python3's
// method would reach it through our code only: a plain type, nothing in
// the instance's __dict__ shadowing _checkClosed or `also`. Else nullptr,
// no exception.
PyRef fast_sslobj(ClassState* st, PyObject* self, PyObject* also) {
  if (!type_is_plain(st, Py_TYPE(self))) return PyRef();
  PyObject** dict_ptr = _PyObject_GetDictPtr(self);
  if (!dict_ptr || !*dict_ptr) return PyRef();
  PyObject* dict = *dict_ptr;
  PyObject* sslobj = PyDict_GetItemWithError(dict, g_sslobj_name);
  bool plain = sslobj && ssl_object::is_cooperative(sslobj) && !PyDict_GetItemWithError(dict, g_check_closed_name) &&
               !(also && PyDict_GetItemWithError(dict, also)) && !PyErr_Occurred();
  if (!plain) {
    PyErr_Clear();
    return PyRef();
  }
  return PyRef::borrow(sslobj);  // held: a close() elsewhere may drop the __dict__'s reference mid-call
}

// The call's arguments matched to the method's parameters (`out`, nullptr
// where not given); false for anything python3's method should judge
// (too many, an unknown or repeated keyword).
bool bind(Method m, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames, PyObject** out) {
  int count = 0;
  while (count < 3 && g_params[m][count]) out[count++] = nullptr;
  if (nargs > count) return false;
  for (Py_ssize_t i = 0; i < nargs; ++i) out[i] = args[i];
  Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
  for (Py_ssize_t k = 0; k < nkw; ++k) {
    PyObject* name = PyTuple_GET_ITEM(kwnames, k);
    int j = 0;
    while (j < count && name != g_params[m][j] && PyUnicode_Compare(name, g_params[m][j]) != 0) ++j;
    if (PyErr_Occurred()) {
      PyErr_Clear();
      return false;
    }
    if (j == count || out[j]) return false;
    out[j] = args[nargs + k];
  }
  return true;
}

// python3's `flags != 0` is false: absent, or the int 0 itself (any other
// object is left to python3's comparison).
bool flags_zero(PyObject* flags) { return !flags || (PyLong_CheckExact(flags) && Py_SIZE(flags) == 0); }

// python3's method, called with the same arguments.
PyObject* python3s(ClassState* st, Method m, PyObject* self, PyObject* const* args, Py_ssize_t nargs,
                   PyObject* kwnames) {
  return call_with_self(st->python3[m], self, args, nargs, kwnames);
}

// python3's read() after `self._sslobj.read(...)` raised:
//   except SSLError as x:
//       if x.args[0] == SSL_ERROR_EOF and self.suppress_ragged_eofs:
//           return 0 if buffer is not None else b''
//       raise
PyObject* after_read_error(ClassState* st, PyObject* self, bool into) {
  if (!PyErr_ExceptionMatches(st->ssl_error)) return nullptr;
  PyObject *type, *value, *traceback;
  PyErr_Fetch(&type, &value, &traceback);
  PyErr_NormalizeException(&type, &value, &traceback);
  int suppress;
  PyRef args = PyRef::steal(PyObject_GetAttrString(value, "args"));
  if (!args) {
    suppress = -1;
  } else if (!PyTuple_Check(args.get()) || PyTuple_GET_SIZE(args.get()) == 0) {
    // x.args[0] on what BaseException.args can hold: only an empty tuple.
    PyErr_SetString(PyExc_IndexError, "tuple index out of range");
    suppress = -1;
  } else {
    suppress = PyObject_RichCompareBool(PyTuple_GET_ITEM(args.get(), 0), st->eof_code, Py_EQ);
    if (suppress > 0) {
      PyRef flag = PyRef::steal(PyObject_GetAttr(self, g_suppress_name));
      suppress = flag ? PyObject_IsTrue(flag.get()) : -1;
    }
  }
  if (suppress < 0) {  // raised while handling it, as python3's would be
    _PyErr_ChainExceptions(type, value, traceback);
    return nullptr;
  }
  if (suppress == 0) {
    PyErr_Restore(type, value, traceback);
    return nullptr;
  }
  Py_XDECREF(type);
  Py_XDECREF(value);
  Py_XDECREF(traceback);
  return into ? PyLong_FromLong(0) : PyBytes_FromStringAndSize(nullptr, 0);
}

// read(len, buffer) on the _ssl object, as python3's SSLSocket.read does.
PyObject* read_from(ClassState* st, PyObject* self, PyObject* sslobj, PyObject* len, PyObject* buffer) {
  if (buffer == Py_None) buffer = nullptr;
  PyObject* argv[2] = {len ? len : g_default_len, buffer};
  PyObject* r = ssl_object::read(sslobj, argv, buffer ? 2 : 1);
  return r ? r : after_read_error(st, self, buffer != nullptr);
}

// The entry points: METH_METHOD, so that defining_class names the class
// whose state applies.
#define TF_SSL_ENTRY(name)                                                                                \
  PyObject* name(PyObject* self, PyTypeObject* defining_class, PyObject* const* args, size_t nargsf, \
                 PyObject* kwnames)

// recv(buflen=1024, flags=0)
TF_SSL_ENTRY(sslsocket_recv) {
  ClassState* st = state_of(defining_class);
  Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
  PyObject* a[3];
  PyRef sslobj;
  if (!bind(kRecv, args, nargs, kwnames, a) || !flags_zero(a[1]) || !(sslobj = fast_sslobj(st, self, g_read_name)))
    return python3s(st, kRecv, self, args, nargs, kwnames);
  return read_from(st, self, sslobj.get(), a[0], nullptr);
}

// recv_into(buffer, nbytes=None, flags=0)
TF_SSL_ENTRY(sslsocket_recv_into) {
  ClassState* st = state_of(defining_class);
  Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
  PyObject* a[3];
  PyRef sslobj;
  if (!bind(kRecvInto, args, nargs, kwnames, a) || !a[0] || !flags_zero(a[2]) ||
      !(sslobj = fast_sslobj(st, self, g_read_name)))
    return python3s(st, kRecvInto, self, args, nargs, kwnames);
  // if buffer and (nbytes is None): nbytes = len(buffer)
  // elif nbytes is None: nbytes = 1024
  PyObject* buffer = a[0];
  PyObject* nbytes = a[1] == Py_None ? nullptr : a[1];
  int truth = PyObject_IsTrue(buffer);
  if (truth < 0) return nullptr;
  PyRef length;
  if (truth && !nbytes) {
    Py_ssize_t n = PyObject_Size(buffer);
    if (n < 0 || !(length = PyRef::steal(PyLong_FromSsize_t(n)))) return nullptr;
    nbytes = length.get();
  }
  return read_from(st, self, sslobj.get(), nbytes, buffer);
}

// read(len=1024, buffer=None)
TF_SSL_ENTRY(sslsocket_read) {
  ClassState* st = state_of(defining_class);
  Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
  PyObject* a[3];
  PyRef sslobj;
  if (!bind(kRead, args, nargs, kwnames, a) || !(sslobj = fast_sslobj(st, self, nullptr)))
    return python3s(st, kRead, self, args, nargs, kwnames);
  return read_from(st, self, sslobj.get(), a[0], a[1]);
}

// write(data)
TF_SSL_ENTRY(sslsocket_write) {
  ClassState* st = state_of(defining_class);
  Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
  PyObject* a[3];
  PyRef sslobj;
  if (!bind(kWrite, args, nargs, kwnames, a) || !a[0] || !(sslobj = fast_sslobj(st, self, nullptr)))
    return python3s(st, kWrite, self, args, nargs, kwnames);
  return ssl_object::write(sslobj.get(), a[0]);
}

// send(data, flags=0)
TF_SSL_ENTRY(sslsocket_send) {
  ClassState* st = state_of(defining_class);
  Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
  PyObject* a[3];
  PyRef sslobj;
  if (!bind(kSend, args, nargs, kwnames, a) || !a[0] || !flags_zero(a[1]) ||
      !(sslobj = fast_sslobj(st, self, nullptr)))
    return python3s(st, kSend, self, args, nargs, kwnames);
  return ssl_object::write(sslobj.get(), a[0]);
}

// sendall(data, flags=0): python3's
//   with memoryview(data) as view, view.cast("B") as byte_view:
//       while count < len(byte_view): count += self.send(byte_view[count:])
TF_SSL_ENTRY(sslsocket_sendall) {
  ClassState* st = state_of(defining_class);
  Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
  PyObject* a[3];
  PyRef sslobj;
  if (!bind(kSendall, args, nargs, kwnames, a) || !a[0] || !flags_zero(a[1]) ||
      !(sslobj = fast_sslobj(st, self, g_send_name)))
    return python3s(st, kSendall, self, args, nargs, kwnames);
  Py_buffer view;
  if (PyObject_GetBuffer(a[0], &view, PyBUF_SIMPLE) < 0) {  // not a contiguous buffer: python3 says what
    PyErr_Clear();
    return python3s(st, kSendall, self, args, nargs, kwnames);
  }
  const char* bytes = static_cast<const char*>(view.buf);
  Py_ssize_t count = 0;
  bool ok = true;
  while (ok && count < view.len) {
    // byte_view[count:]: the object itself for the whole of a bytes.
    PyRef rest = count == 0 && PyBytes_CheckExact(a[0])
                     ? PyRef::borrow(a[0])
                     : PyRef::steal(PyMemoryView_FromMemory(const_cast<char*>(bytes + count), view.len - count,
                                                            PyBUF_READ));
    // self.send(rest): ours again unless the socket was closed or
    // unwrapped meanwhile (python3's send then goes to the plain socket).
    if (count > 0) sslobj = fast_sslobj(st, self, nullptr);
    PyRef sent;
    if (!rest) {
      ok = false;
    } else if (sslobj) {
      sent = PyRef::steal(ssl_object::write(sslobj.get(), rest.get()));
    } else {
      PyObject* argv[1] = {rest.get()};
      sent = PyRef::steal(python3s(st, kSend, self, argv, 1, nullptr));
    }
    Py_ssize_t n = sent ? PyNumber_AsSsize_t(sent.get(), PyExc_OverflowError) : -1;
    if (n < 0 && PyErr_Occurred()) {
      ok = false;
    } else {
      count += n;
      ok = PyErr_CheckSignals() == 0;  // python3 runs signal handlers between its sends
    }
  }
  PyBuffer_Release(&view);
  if (!ok) return nullptr;
  Py_RETURN_NONE;
}

PyCFunction entry(TF_SSL_ENTRY((*fn))) { return reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(fn)); }

constexpr int kFlags = METH_METHOD | METH_FASTCALL | METH_KEYWORDS;

// ml_doc: python3's signature (for inspect) and docstring.
std::string g_docs[kMethods];
PyMethodDef g_defs[kMethods + 1] = {
    {"recv", entry(sslsocket_recv), kFlags, nullptr},       {"recv_into", entry(sslsocket_recv_into), kFlags, nullptr},
    {"read", entry(sslsocket_read), kFlags, nullptr},       {"send", entry(sslsocket_send), kFlags, nullptr},
    {"sendall", entry(sslsocket_sendall), kFlags, nullptr}, {"write", entry(sslsocket_write), kFlags, nullptr},
    {nullptr, nullptr, 0, nullptr}};

const char* const kSignatures[kMethods] = {
    "recv($self, buflen=1024, flags=0)", "recv_into($self, buffer, nbytes=None, flags=0)",
    "read($self, len=1024, buffer=None)", "send($self, data, flags=0)", "sendall($self, data, flags=0)",
    "write($self, data)"};

bool intern_names() {
  if (g_default_len) return true;
  for (int m = 0; m < kMethods; ++m)
    for (int j = 0; j < 3 && kParamNames[m][j]; ++j)
      if (!(g_params[m][j] = PyUnicode_InternFromString(kParamNames[m][j]))) return false;
  return (g_check_closed_name = PyUnicode_InternFromString("_checkClosed")) &&
         (g_read_name = PyUnicode_InternFromString("read")) && (g_send_name = PyUnicode_InternFromString("send")) &&
         (g_sslobj_name = PyUnicode_InternFromString("_sslobj")) &&
         (g_suppress_name = PyUnicode_InternFromString("suppress_ragged_eofs")) &&
         (g_default_len = PyLong_FromLong(1024));
}

// install_sslsocket_methods(cls, ssl): cls (a subclass of ssl.SSLSocket
// whose _sslobj is an SSLObjectSlot) gets the C recv, recv_into, read,
// send, sendall and write.
PyObject* install_sslsocket_methods(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  if (!_PyArg_CheckPositional("install_sslsocket_methods", nargs, 2, 2)) return nullptr;
  if (!PyType_Check(args[0])) {
    PyErr_SetString(PyExc_TypeError, "install_sslsocket_methods(cls, ssl): cls must be a class");
    return nullptr;
  }
  if (!intern_names()) return nullptr;
  auto* cls = reinterpret_cast<PyTypeObject*>(args[0]);
  PyObject* ssl = args[1];
  PyRef base = PyRef::steal(PyObject_GetAttrString(ssl, "SSLSocket"));
  if (!base) return nullptr;
  if (!PyType_Check(base.get()) || !PyType_IsSubtype(cls, reinterpret_cast<PyTypeObject*>(base.get()))) {
    PyErr_SetString(PyExc_TypeError, "install_sslsocket_methods(cls, ssl): cls must derive from ssl.SSLSocket");
    return nullptr;
  }
  auto st = std::make_unique<ClassState>();
  st->check_closed = _PyType_Lookup(reinterpret_cast<PyTypeObject*>(base.get()), g_check_closed_name);
  st->sslobj_slot = _PyType_Lookup(cls, g_sslobj_name);
  if (!st->check_closed || !st->sslobj_slot) {
    PyErr_SetString(PyExc_TypeError, "install_sslsocket_methods: cls lacks _checkClosed or _sslobj");
    return nullptr;
  }
  Py_INCREF(st->check_closed);
  Py_INCREF(st->sslobj_slot);
  if (!(st->ssl_error = PyObject_GetAttrString(ssl, "SSLError")) ||
      !(st->eof_code = PyObject_GetAttrString(ssl, "SSL_ERROR_EOF")))
    return nullptr;
  for (int m = 0; m < kMethods; ++m) {
    PyRef name = PyRef::steal(PyUnicode_InternFromString(kNames[m]));
    if (!name) return nullptr;
    PyObject* function = _PyType_Lookup(reinterpret_cast<PyTypeObject*>(base.get()), name.get());
    if (!function || !PyFunction_Check(function)) {
      PyErr_Format(PyExc_TypeError, "ssl.SSLSocket.%s is not the Python function tfpython expects", kNames[m]);
      return nullptr;
    }
    st->python3[m] = Py_NewRef(function);
    if (g_docs[m].empty()) {
      PyObject* doc = reinterpret_cast<PyFunctionObject*>(function)->func_doc;
      const char* text = doc && PyUnicode_Check(doc) ? PyUnicode_AsUTF8(doc) : "";
      if (!text) return nullptr;
      g_docs[m] = std::string(kSignatures[m]) + "\n--\n\n" + text;
      g_defs[m].ml_doc = g_docs[m].c_str();
    }
  }
  // Registered before the first descriptor can be called: until all are
  // in place, the type is not plain and every call goes to python3's.
  ClassState* state = st.release();
  state->cls = reinterpret_cast<PyTypeObject*>(Py_NewRef(args[0]));
  g_states.push_back(state);
  for (int m = 0; m < kMethods; ++m) {
    PyObject* descriptor = PyDescr_NewMethod(cls, &g_defs[m]);
    if (!descriptor || PyObject_SetAttrString(args[0], kNames[m], descriptor) < 0) {
      Py_XDECREF(descriptor);
      return nullptr;
    }
    state->ours[m] = descriptor;
  }
  Py_RETURN_NONE;
}

PyMethodDef g_helpers[] = {
    {"install_sslsocket_methods",
     reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(install_sslsocket_methods)), METH_FASTCALL,
     "install_sslsocket_methods(cls, ssl): C recv, recv_into, read, send, sendall, write on cls"},
    {nullptr, nullptr, 0, nullptr}};

}  // namespace

int add_ssl_socket(PyObject* module) { return PyModule_AddFunctions(module, g_helpers); }

}  // namespace tf::core
