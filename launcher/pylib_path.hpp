// Where the theframework package lives, and how it is imported without
// adding anything to sys.path (so sys.path stays exactly python3's).
#pragma once

#include <string>

namespace tf::launcher {

// Where theframework/ was looked for, and where it was found.
struct PylibSearch {
  std::string found;            // empty: in neither place
  std::string installed;        // <prefix>/lib/python3/dist-packages, from the executable's own path
  std::string build_tree_note;  // a build tree's file naming the source checkout's pylib/
};

// An installed tfpython finds the package relative to itself, whatever the
// prefix, and never in the tree it was built from; only a tfpython that
// still stands in its build tree (the note beside it, as CPython's
// pybuilddir.txt) uses the source checkout.
PylibSearch find_pylib();

// Imports greenlet (from Debian's dist-packages even under -I/-S, with
// sys.path restored afterwards) and theframework; then installs the
// patches unless `patch` is false. False with a Python exception set.
bool bootstrap_framework(const std::string& pylib, bool patch);

}  // namespace tf::launcher
