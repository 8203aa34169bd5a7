// The interactive prompt waits for input on the hub, so that threads and
// greenlets keep running while it waits (GreenHub::run_beside() keeps the
// hub running at the prompt).
//
// Where python3 blocks, and what takes its place here:
//  * GNU readline (the readline module, on a terminal): its loop blocks in
//    select() on stdin before each key. That one call, and the signal check
//    it makes when select() is interrupted, are redirected in the readline
//    module alone (its GOT entries): select waits on the hub; an exception
//    thrown into the prompt's wait (Ctrl-C's KeyboardInterrupt) comes back
//    as an interrupted select whose signal check raises it, which is how
//    readline ends a line on ^C under python3.
//  * No readline module, on a terminal: PyOS_ReadlineFunctionPointer is
//    python3's stdio reader; ours prints the prompt, waits on the hub, then
//    lets it read the line.
//  * stdin not a terminal (python3 -i < file): PyOS_InputHook, which the
//    stdio reader calls before each read, waits on the hub.
#pragma once

#include <Python.h>

namespace tf::core {

// prompt_waits_on_hub(): installs the above (once; the readline part once
// the readline module is loaded).
int add_prompt_input(PyObject* module);

}  // namespace tf::core
