// What core/ssl/ssl.cpp (the cooperative _ssl object) offers the C
// methods of the cooperative SSLSocket (core/ssl/ssl_socket.cpp).
#pragma once

#include <Python.h>

namespace tf::core {

namespace ssl_object {

// Whether obj is a CooperativeSSLObject.
bool is_cooperative(PyObject* obj);

// The _sslobj an SSLSocket keeps in its __dict__ (borrowed), or nullptr
// (with an exception only if the lookup itself failed).
PyObject* of_socket(PyObject* sslsock);

// CooperativeSSLObject.read(*args) and .write(data): OpenSSL's read and
// write, waiting on the hub when they would block.
PyObject* read(PyObject* proxy, PyObject* const* args, Py_ssize_t nargs);
PyObject* write(PyObject* proxy, PyObject* data);

}  // namespace ssl_object

// Adds install_sslsocket_methods (ssl_socket.cpp). -1 on error.
int add_ssl_socket(PyObject* module);

}  // namespace tf::core
