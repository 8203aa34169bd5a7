#include "core/socket/name_info.hpp"

#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdio>
#include <cstring>

#include "core/py_ref.hpp"

namespace tf::core {
namespace {

// CPython's set_gaierror(): socket.gaierror(code, text), or OSError for
// EAI_SYSTEM.
PyObject* raise_gaierror(int error) {
  if (error == EAI_SYSTEM) return PyErr_SetFromErrno(PyExc_OSError);
  PyRef socket_module = PyRef::steal(PyImport_ImportModule("_socket"));
  PyRef gaierror = socket_module ? PyRef::steal(PyObject_GetAttrString(socket_module.get(), "gaierror")) : PyRef();
  PyRef value = gaierror ? PyRef::steal(Py_BuildValue("(is)", error, gai_strerror(error))) : PyRef();
  if (value) PyErr_SetObject(gaierror.get(), value.get());
  return nullptr;
}

struct AddrInfoList {
  addrinfo* head = nullptr;
  ~AddrInfoList() {
    if (head) freeaddrinfo(head);
  }
};

PyObject* resolve_nameinfo(PyObject*, PyObject* args) {
  PyObject* sockaddr;
  int flags;
  if (!PyArg_ParseTuple(args, "O!i:getnameinfo", &PyTuple_Type, &sockaddr, &flags)) return nullptr;
  const char* host;
  int port;
  unsigned int flowinfo = 0, scope_id = 0;
  if (!PyArg_ParseTuple(sockaddr, "si|II;getnameinfo(): illegal sockaddr argument", &host, &port, &flowinfo,
                        &scope_id))
    return nullptr;
  char service[NI_MAXSERV];
  std::snprintf(service, sizeof service, "%d", port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;  // a numeric port is then accepted
  hints.ai_flags = AI_NUMERICHOST;
  AddrInfoList found;
  int error;
  Py_BEGIN_ALLOW_THREADS
  error = getaddrinfo(host, service, &hints, &found.head);
  Py_END_ALLOW_THREADS
  if (error) return raise_gaierror(error);
  if (found.head->ai_next) {
    PyErr_SetString(PyExc_OSError, "sockaddr resolved to multiple addresses");
    return nullptr;
  }
  if (found.head->ai_family == AF_INET && PyTuple_GET_SIZE(sockaddr) != 2) {
    PyErr_SetString(PyExc_OSError, "IPv4 sockaddr must be 2 tuple");
    return nullptr;
  }
  if (found.head->ai_family == AF_INET6) {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(found.head->ai_addr);
    sin6->sin6_flowinfo = htonl(flowinfo);
    sin6->sin6_scope_id = scope_id;
  }
  char host_name[NI_MAXHOST];
  Py_BEGIN_ALLOW_THREADS
  error = getnameinfo(found.head->ai_addr, found.head->ai_addrlen, host_name, sizeof host_name, service,
                      sizeof service, flags);
  Py_END_ALLOW_THREADS
  if (error) return raise_gaierror(error);
  PyRef name = PyRef::steal(PyUnicode_DecodeFSDefault(host_name));
  if (!name) return nullptr;
  return Py_BuildValue("Os", name.get(), service);
}

PyMethodDef g_methods[] = {
    {"resolve_nameinfo", resolve_nameinfo, METH_VARARGS,
     "resolve_nameinfo(sockaddr, flags): socket.getnameinfo with the GIL released during the lookup."},
    {nullptr, nullptr, 0, nullptr}};

}  // namespace

int add_name_info(PyObject* module) { return PyModule_AddFunctions(module, g_methods); }

}  // namespace tf::core
