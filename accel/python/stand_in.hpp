// A C function standing in for a pure-Python one. It is called through
// vectorcall and binds like a function (so it can replace a method), and
// it shows the original to introspection: repr, __name__, __qualname__,
// __module__, __doc__, __wrapped__ (and so inspect.signature).
#pragma once

#include <Python.h>

namespace tf::accel {

struct StandInObject {
  PyObject_HEAD
  vectorcallfunc vectorcall;  // the C implementation
  PyObject* original;         // the Python function it stands in for
  PyObject* state;            // what the implementation needs, or None
};

inline PyObject* stand_in_original(PyObject* self) { return reinterpret_cast<StandInObject*>(self)->original; }
inline PyObject* stand_in_state(PyObject* self) { return reinterpret_cast<StandInObject*>(self)->state; }

// A new stand-in; nullptr with an exception.
PyObject* make_stand_in(vectorcallfunc implementation, PyObject* original, PyObject* state);

// Calls the original with the arguments as given (python3's results and
// errors for every input the C code does not handle itself).
PyObject* call_stand_in_original(PyObject* self, PyObject* const* args, size_t nargsf, PyObject* kwnames);

int add_stand_in_type(PyObject* module);

}  // namespace tf::accel
