// The cooperative socket's hot path: a C type, SocketBase, derived from
// _socket.socket, whose recv/recv_into/send/sendall/_accept try the syscall
// first and wait on the ring only on EAGAIN. theframework's socket class
// puts it first in its bases. Plus the helpers the Python side uses for the
// colder methods (connect, recvfrom, sendmsg, ...).
#pragma once

#include <Python.h>

namespace tf::core {

// Adds SocketBase and the socket helpers to the module. -1 on error.
int add_socket(PyObject* module);

}  // namespace tf::core
