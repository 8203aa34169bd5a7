// select.epoll kept, and cooperative: an epoll fd is itself pollable, so
// epoll.poll(timeout) first collects what is ready (the original with a
// zero timeout, which also gives python3's errors), and when nothing is,
// waits on the hub for the epoll fd to become readable, then collects
// again. Registrations made by other threads while one waits wake it, as
// they wake a real epoll_wait. The method is replaced in the type, so
// select.epoll, EpollSelector and epoll.fromfd() stay python3's own.
#pragma once

#include <Python.h>

namespace tf::core {

// cooperative_epoll_poll(): the replacement for select.epoll.poll, which
// the monkey registry installs.
int add_select_epoll(PyObject* module);

}  // namespace tf::core
