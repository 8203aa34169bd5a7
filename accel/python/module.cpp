// _framework_accel: C stand-ins for pure-Python standard library functions
// that dominate request handling (http.server, http.client). Each gives
// exactly what its original gives; for any input it does not know the
// answer for, it calls the original with the same arguments, so results,
// errors and tracebacks are python3's. theframework.accel installs them
// (pylib/theframework/accel/email_parser.py and email_utils.py).
#include "accel/python/module.hpp"

#include "accel/python/counts.hpp"
#include "accel/python/email_date.hpp"
#include "accel/python/header_parse.hpp"
#include "accel/python/stand_in.hpp"
#include "core/py_ref.hpp"

namespace tf::accel {

Counts g_counts;

namespace {

PyObject* counts(PyObject*, PyObject*) {
  return Py_BuildValue("{sKsKsKsK}", "parsestr_fast", g_counts.parsestr_fast, "parsestr_original",
                       g_counts.parsestr_original, "formatdate_fast", g_counts.formatdate_fast,
                       "formatdate_original", g_counts.formatdate_original);
}

PyMethodDef g_methods[] = {
    {"make_parsestr", make_parsestr, METH_VARARGS,
     "make_parsestr(original, parse, message_class, compat32): a stand-in for email.parser.Parser.parsestr."},
    {"make_formatdate", make_formatdate, METH_O, "make_formatdate(original): a stand-in for email.utils.formatdate."},
    {"counts", counts, METH_NOARGS, "How often each stand-in answered itself or called its original."},
    {nullptr, nullptr, 0, nullptr},
};

PyModuleDef g_module = {PyModuleDef_HEAD_INIT, "_framework_accel",
                        "C stand-ins for hot pure-Python standard library functions.", -1, g_methods};

}  // namespace
}  // namespace tf::accel

PyMODINIT_FUNC PyInit__framework_accel() {
  tf::core::PyRef m = tf::core::PyRef::steal(PyModule_Create(&tf::accel::g_module));
  if (!m || tf::accel::add_stand_in_type(m.get()) < 0) return nullptr;
  return m.release();
}
