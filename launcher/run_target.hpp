// Running the target exactly as python3 3.11's Modules/main.c does, split in
// two phases: the program itself (inside the hub's target greenlet) and the
// interactive prompt (on the root greenlet, after the hub has stopped).
#pragma once

#include <Python.h>

namespace tf::launcher {

// Inside the target greenlet: sys.path[0], then the command, module, file,
// package or non-interactive stdin. Errors are reported as python3 reports
// them; the result is python3's exit code so far.
int run_program();

// On the root greenlet: the interactive prompt when stdin is a terminal and
// nothing else was given, and `-i` / PYTHONINSPECT inspection afterwards.
void run_interactive(int* exitcode);

// Python3's exit by SIGINT after an uncaught KeyboardInterrupt.
int exit_by_sigint();

}  // namespace tf::launcher
