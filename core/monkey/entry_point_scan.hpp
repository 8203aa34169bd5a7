// Finding installed plugins at start-up: the entry_points.txt files of the
// distributions on sys.path that declare a group, read in C.
// importlib.metadata does the same for any group but costs more than
// tfpython's whole start-up; this is a directory listing per path entry and
// a read of the few entry_points.txt files there are.
#pragma once

#include <Python.h>

namespace tf::core {

// find_entry_point_files(paths, marker): the text of every
// <path>/<dist>.dist-info|.egg-info/entry_points.txt holding marker (such
// as "[theframework.plugins]"), in the order of paths, then of names.
int add_entry_point_scan(PyObject* module);

}  // namespace tf::core
