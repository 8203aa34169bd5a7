// email.parser.Parser.parsestr in C for simple header blocks: what
// http.client.parse_headers (and so every http.server request and every
// http.client response) spends most of its time on. The Message built is
// the one FeedParser builds; any other text, parser or message class goes
// to the original.
#include "accel/python/header_parse.hpp"

#include "accel/header_block.hpp"
#include "accel/python/counts.hpp"
#include "accel/python/stand_in.hpp"
#include "core/py_ref.hpp"

namespace tf::accel {
namespace {

using tf::core::PyRef;

PyObject* g_str_parse;
PyObject* g_str_class;
PyObject* g_str_policy;
PyObject* g_str_headers;
PyObject* g_str_payload;
PyObject* g_str_new;
PyObject* g_str_get_content_maintype;
PyObject* g_str_multipart;
PyObject* g_str_message;
PyObject* g_policy_kwnames;  // ("policy",)

// The Message methods FeedParser calls on the message it builds. The fast
// path builds the same state without calling them, so it is taken only for
// a class whose methods are still these.
constexpr const char* kMessageMethods[] = {"__init__", "set_raw",          "set_payload",
                                           "get",      "get_content_type", "get_content_maintype",
                                           "get_default_type"};
constexpr size_t kMessageMethodCount = sizeof(kMessageMethods) / sizeof(kMessageMethods[0]);
PyObject* g_message_method_names[kMessageMethodCount];

// The stand-in's state: a tuple.
enum State { kParse, kMessage, kCompat32, kMethods, kStateSize };

// A class FeedParser builds exactly as we do: a plain class (no metaclass,
// no __new__) whose message methods are Message's own.
bool builds_like_message(PyObject* cls, PyObject* methods) {
  if (!PyType_Check(cls) || Py_TYPE(cls) != &PyType_Type) return false;
  auto* type = reinterpret_cast<PyTypeObject*>(cls);
  if (_PyType_Lookup(type, g_str_new) != _PyType_Lookup(&PyBaseObject_Type, g_str_new)) return false;
  for (size_t i = 0; i < kMessageMethodCount; ++i) {
    if (_PyType_Lookup(type, g_message_method_names[i]) != PyTuple_GET_ITEM(methods, i)) return false;
  }
  return true;
}

bool is_content_type(PyObject* text, const HeaderField& field) {
  static const char kName[] = "content-type";
  if (field.name_end - field.name_begin != sizeof(kName) - 1) return false;
  for (size_t i = 0; i < sizeof(kName) - 1; ++i) {
    Py_UCS4 c = PyUnicode_READ_CHAR(text, field.name_begin + i);
    if (c >= 'A' && c <= 'Z') c += 'a' - 'A';
    if (c != static_cast<Py_UCS4>(kName[i])) return false;
  }
  return true;
}

bool scan(PyObject* text, HeaderBlock* block) {
  size_t n = static_cast<size_t>(PyUnicode_GET_LENGTH(text));
  switch (PyUnicode_KIND(text)) {
    case PyUnicode_1BYTE_KIND:
      return scan_header_block(PyUnicode_1BYTE_DATA(text), n, block);
    case PyUnicode_2BYTE_KIND:
      return scan_header_block(PyUnicode_2BYTE_DATA(text), n, block);
    default:
      return scan_header_block(PyUnicode_4BYTE_DATA(text), n, block);
  }
}

// The Message for a simple block; empty without an exception when the
// real parser must decide (a multipart or message/* content type). The
// block is read before any Python code runs.
PyRef message_from_block(PyObject* cls, PyObject* compat32, PyObject* text, const HeaderBlock& block) {
  PyRef headers = PyRef::steal(PyList_New(static_cast<Py_ssize_t>(block.fields.size())));
  if (!headers) return headers;
  bool has_content_type = false;
  for (size_t i = 0; i < block.fields.size(); ++i) {
    const HeaderField& f = block.fields[i];
    PyRef name = PyRef::steal(PyUnicode_Substring(text, f.name_begin, f.name_end));
    PyRef value = name ? PyRef::steal(PyUnicode_Substring(text, f.value_begin, f.value_end)) : PyRef();
    PyObject* pair = value ? PyTuple_Pack(2, name.get(), value.get()) : nullptr;
    if (!pair) return PyRef();
    PyList_SET_ITEM(headers.get(), static_cast<Py_ssize_t>(i), pair);
    has_content_type = has_content_type || is_content_type(text, f);
  }
  PyRef payload = PyRef::steal(PyUnicode_Substring(text, static_cast<Py_ssize_t>(block.body_begin),
                                                   PyUnicode_GET_LENGTH(text)));
  if (!payload) return payload;
  PyObject* policy_arg[] = {compat32};
  PyRef msg = PyRef::steal(PyObject_Vectorcall(cls, policy_arg, 0, g_policy_kwnames));
  if (!msg || PyObject_SetAttr(msg.get(), g_str_headers, headers.get()) < 0) return PyRef();
  if (has_content_type) {
    PyRef maintype = PyRef::steal(PyObject_CallMethodNoArgs(msg.get(), g_str_get_content_maintype));
    if (!maintype) return maintype;
    if (PyUnicode_Check(maintype.get()) && (PyUnicode_Compare(maintype.get(), g_str_multipart) == 0 ||
                                            PyUnicode_Compare(maintype.get(), g_str_message) == 0))
      return PyRef();
  }
  if (PyObject_SetAttr(msg.get(), g_str_payload, payload.get()) < 0) return PyRef();
  return msg;
}

// parsestr(self, text, headersonly=False), as email.parser.Parser's.
PyObject* fast_parsestr(PyObject* stand_in, PyObject* const* args, size_t nargsf, PyObject* kwnames) {
  PyObject* state = stand_in_state(stand_in);
  Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
  Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
  auto original_answers = [&] {
    ++g_counts.parsestr_original;
    return call_stand_in_original(stand_in, args, nargsf, kwnames);
  };
  // The call shapes python3 accepts; the rest get the original's TypeError.
  PyObject* headersonly = Py_False;
  if ((nargs == 3 && nkw == 0) ||
      (nargs == 2 && nkw == 1 && PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(kwnames, 0), "headersonly") == 0)) {
    headersonly = args[2];
  } else if (!(nargs == 2 && nkw == 0)) {
    return original_answers();
  }
  PyObject* self = args[0];
  PyObject* text = args[1];
  // headersonly changes nothing for a simple block (the rest of the text is
  // the payload either way), but python3 tests its truth, which may run
  // code: only real bools stay here. A subclass's own parse() must run.
  if (!PyUnicode_CheckExact(text) || (headersonly != Py_True && headersonly != Py_False) ||
      _PyType_Lookup(Py_TYPE(self), g_str_parse) != PyTuple_GET_ITEM(state, kParse))
    return original_answers();
  PyRef cls = PyRef::steal(PyObject_GetAttr(self, g_str_class));
  PyRef policy = cls ? PyRef::steal(PyObject_GetAttr(self, g_str_policy)) : PyRef();
  if (!policy) {
    PyErr_Clear();
    return original_answers();  // raises the same AttributeError, from parse()
  }
  PyObject* compat32 = PyTuple_GET_ITEM(state, kCompat32);
  // compat32 has no message_factory: FeedParser builds a Message.
  PyObject* factory = cls.get() == Py_None ? PyTuple_GET_ITEM(state, kMessage) : cls.get();
  thread_local HeaderBlock block;
  if (policy.get() != compat32 || !builds_like_message(factory, PyTuple_GET_ITEM(state, kMethods)) ||
      !scan(text, &block))
    return original_answers();
  PyRef msg = message_from_block(factory, compat32, text, block);
  if (!msg) return PyErr_Occurred() ? nullptr : original_answers();
  ++g_counts.parsestr_fast;
  return msg.release();
}

bool intern(PyObject** slot, const char* text) {
  if (!*slot) *slot = PyUnicode_InternFromString(text);
  return *slot != nullptr;
}

bool intern_names() {
  if (!intern(&g_str_parse, "parse") || !intern(&g_str_class, "_class") || !intern(&g_str_policy, "policy") ||
      !intern(&g_str_headers, "_headers") || !intern(&g_str_payload, "_payload") || !intern(&g_str_new, "__new__") ||
      !intern(&g_str_get_content_maintype, "get_content_maintype") || !intern(&g_str_multipart, "multipart") ||
      !intern(&g_str_message, "message"))
    return false;
  for (size_t i = 0; i < kMessageMethodCount; ++i) {
    if (!intern(&g_message_method_names[i], kMessageMethods[i])) return false;
  }
  if (!g_policy_kwnames) g_policy_kwnames = PyTuple_Pack(1, g_str_policy);
  return g_policy_kwnames != nullptr;
}

}  // namespace

PyObject* make_parsestr(PyObject*, PyObject* args) {
  PyObject *original, *parse, *message, *compat32;
  if (!PyArg_ParseTuple(args, "OOO!O:make_parsestr", &original, &parse, &PyType_Type, &message, &compat32))
    return nullptr;
  if (!intern_names()) return nullptr;
  PyRef methods = PyRef::steal(PyTuple_New(kMessageMethodCount));
  if (!methods) return nullptr;
  for (size_t i = 0; i < kMessageMethodCount; ++i) {
    PyObject* method = _PyType_Lookup(reinterpret_cast<PyTypeObject*>(message), g_message_method_names[i]);
    if (!method) return PyErr_Format(PyExc_TypeError, "%R has no %s", message, kMessageMethods[i]);
    PyTuple_SET_ITEM(methods.get(), i, Py_NewRef(method));
  }
  PyRef state = PyRef::steal(PyTuple_Pack(kStateSize, parse, message, compat32, methods.get()));
  return state ? make_stand_in(fast_parsestr, original, state.get()) : nullptr;
}

}  // namespace tf::accel
