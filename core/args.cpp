#include "core/args.hpp"

#include <cmath>

namespace tf::core {

// None -> -1 (no limit); a number -> seconds, negative clamped to 0.
bool parse_timeout(PyObject* obj, double* out) {
  if (obj == nullptr || obj == Py_None) {
    *out = -1;
    return true;
  }
  double t = PyFloat_AsDouble(obj);
  if (t == -1.0 && PyErr_Occurred()) return false;
  if (std::isnan(t)) {
    PyErr_SetString(PyExc_ValueError, "Invalid value NaN (not a number)");
    return false;
  }
  *out = t < 0 ? 0 : t;
  return true;
}

GreenHub* running_hub_or_raise() {
  GreenHub* hub = GreenHub::current();
  if (!hub || !hub->running()) {
    PyErr_SetString(PyExc_RuntimeError, "no hub is running in this thread");
    return nullptr;
  }
  return hub;
}

}  // namespace tf::core
