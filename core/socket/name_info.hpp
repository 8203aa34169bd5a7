// socket.getnameinfo() with the GIL released during the lookup: CPython
// 3.11 holds it while getnameinfo(3) asks DNS for a PTR record, which
// stops every thread of the process, the hub's included, even when the
// call runs on a worker thread. The same steps as CPython's (the numeric
// address made a sockaddr with getaddrinfo(AI_NUMERICHOST), flowinfo and
// scope id set for IPv6), the same results and errors; dns.py checks the
// arguments with the original first (python3's errors, its audit event).
#pragma once

#include <Python.h>

namespace tf::core {

// resolve_nameinfo(sockaddr, flags) -> (host, port).
int add_name_info(PyObject* module);

}  // namespace tf::core
