// TLS on cooperative sockets: the stand-in for an SSLSocket's _ssl object
// (CooperativeSSLObject, whose handshake, read, write and shutdown wait on
// the hub) and the SSLSocket._sslobj descriptor that installs it.
// pylib/theframework/cooperative_ssl.py puts the descriptor on its
// SSLSocket class.
#pragma once

#include <Python.h>

namespace tf::core {

// Adds CooperativeSSLObject, SSLObjectSlot and the ssl helpers. -1 on error.
int add_ssl(PyObject* module);

}  // namespace tf::core
