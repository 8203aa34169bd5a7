#pragma once

#include <Python.h>

namespace tf::accel {

// make_parsestr(original, parse, message_class, compat32): the stand-in for
// email.parser.Parser.parsestr (parse: Parser.parse, which it must find
// unchanged on the parser's class; compat32: email._policybase.compat32).
PyObject* make_parsestr(PyObject* module, PyObject* args);

}  // namespace tf::accel
