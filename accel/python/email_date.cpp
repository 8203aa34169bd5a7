// email.utils.formatdate in C for a UTC date of a float or int timestamp,
// the text kept for the current second (http.server dates every response).
// Local times, the clock's own time (no timestamp) and anything unusual go
// to the original.
#include "accel/python/email_date.hpp"

#include <cstdint>

#include "accel/http_date.hpp"
#include "accel/python/counts.hpp"
#include "accel/python/stand_in.hpp"

namespace tf::accel {
namespace {

struct DateCache {
  int64_t second = -1;
  bool gmt = false;
  PyObject* text = nullptr;
};
DateCache g_date_cache;  // the GIL guards it

PyObject* date_text(int64_t second, bool gmt) {
  if (g_date_cache.text && g_date_cache.second == second && g_date_cache.gmt == gmt)
    return Py_NewRef(g_date_cache.text);
  char buf[kHttpDateMax];
  size_t n = format_email_date(second, gmt, buf);
  PyObject* text = PyUnicode_FromStringAndSize(buf, static_cast<Py_ssize_t>(n));
  if (!text) return nullptr;
  Py_XSETREF(g_date_cache.text, Py_NewRef(text));
  g_date_cache.second = second;
  g_date_cache.gmt = gmt;
  return text;
}

// formatdate(timeval=None, localtime=False, usegmt=False), as email.utils'.
PyObject* fast_formatdate(PyObject* stand_in, PyObject* const* args, size_t nargsf, PyObject* kwnames) {
  static const char* const kNames[] = {"timeval", "localtime", "usegmt"};
  Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
  Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
  auto original_answers = [&] {
    ++g_counts.formatdate_original;
    return call_stand_in_original(stand_in, args, nargsf, kwnames);
  };
  if (nargs > 3) return original_answers();
  PyObject* given[3] = {Py_None, Py_False, Py_False};
  for (Py_ssize_t i = 0; i < nargs; ++i) given[i] = args[i];
  for (Py_ssize_t k = 0; k < nkw; ++k) {
    int slot = -1;
    for (int i = 0; i < 3; ++i) {
      if (PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(kwnames, k), kNames[i]) == 0) slot = i;
    }
    if (slot < nargs) return original_answers();  // unknown, or given twice: python3's TypeError
    given[slot] = args[nargs + k];
  }
  // localtime must be False itself and usegmt a real bool: python3 tests
  // their truth, which may run code.
  if (given[1] != Py_False || (given[2] != Py_True && given[2] != Py_False)) return original_answers();
  PyObject* timeval = given[0];
  int64_t second;
  if (PyFloat_CheckExact(timeval)) {
    if (!timestamp_second(PyFloat_AS_DOUBLE(timeval), &second)) return original_answers();
  } else if (PyLong_CheckExact(timeval)) {
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(timeval, &overflow);
    if (overflow || v < 0 || v > kLastDatetimeSecond) return original_answers();
    second = v;
  } else {
    return original_answers();  // None (the clock's time) and every other type
  }
  ++g_counts.formatdate_fast;
  return date_text(second, given[2] == Py_True);
}

}  // namespace

PyObject* make_formatdate(PyObject*, PyObject* original) { return make_stand_in(fast_formatdate, original, nullptr); }

}  // namespace tf::accel
