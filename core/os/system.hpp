// os.system() inside the hub: system(3)'s steps with the wait on the hub.
// /bin/sh -c COMMAND is started with posix_spawn (SIGINT and SIGQUIT at
// their defaults in the child, the caller's signal mask), the caller
// ignores SIGINT and SIGQUIT while it waits (counted across concurrent
// commands, as glibc does), and the wait is a pidfd that becomes readable
// when the shell exits. The result is the wait status, as system(3)'s.
#pragma once

#include <Python.h>

namespace tf::core {

// run_shell(command: bytes) -> wait status.
int add_os_system(PyObject* module);

}  // namespace tf::core
