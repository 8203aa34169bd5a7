// Where the theframework package lives, and how it is imported without
// adding anything to sys.path (so sys.path stays exactly python3's).
#pragma once

#include <string>

namespace tf::launcher {

// The directory holding theframework/: installed next to the executable
// (<prefix>/lib/tfpython/pylib) or, in a build tree, the source checkout.
std::string find_pylib();

// Imports greenlet (from Debian's dist-packages even under -I/-S, with
// sys.path restored afterwards) and theframework; then installs the
// patches unless `patch` is false. False with a Python exception set.
bool bootstrap_framework(const std::string& pylib, bool patch);

}  // namespace tf::launcher
