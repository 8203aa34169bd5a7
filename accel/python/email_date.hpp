#pragma once

#include <Python.h>

namespace tf::accel {

// make_formatdate(original): the stand-in for email.utils.formatdate.
PyObject* make_formatdate(PyObject* module, PyObject* original);

}  // namespace tf::accel
