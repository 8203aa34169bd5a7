#include "core/io/file_io.hpp"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "core/select/fd_ready.hpp"
#include "core/task/green_hub.hpp"
#include "core/monkey/method_patch.hpp"
#include "core/py_ref.hpp"

namespace tf::core {
namespace {

// CPython 3.11's fileio object (Modules/_io/fileio.c); checked against a
// real one before anything is patched.
struct FileIOLayout {
  PyObject_HEAD
  int fd;
  unsigned int created : 1;
  unsigned int readable : 1;
  unsigned int writable : 1;
  unsigned int appending : 1;
  signed int seekable : 2;  // -1: not asked yet
  unsigned int closefd : 1;
  char finalizing;
  unsigned int blksize;
  PyObject* weakreflist;
  PyObject* dict;
};

FileIOLayout* as_file(PyObject* self) { return reinterpret_cast<FileIOLayout*>(self); }

PyObject* g_read = nullptr;  // the original method descriptors
PyObject* g_readinto = nullptr;
PyObject* g_readall = nullptr;
PyObject* g_write = nullptr;

// The original answers at once: a non-blocking fd, or one not open for
// this direction (a read from a pipe's write end fails with EBADF).
bool answers_at_once(int fd, short mask) {
  int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || (flags & O_NONBLOCK)) return true;
  int access = flags & O_ACCMODE;
  return mask == POLLIN ? access == O_WRONLY : access == O_RDONLY;
}

// Whether a call on this file may have to wait on the hub: a hub-driven
// greenlet, an open fd that is not a seekable (regular) file.
bool may_wait(PyObject* self, bool reading) {
  FileIOLayout* f = as_file(self);
  return GreenHub::cooperative_here() && f->fd >= 0 && f->seekable != 1 && (reading ? f->readable : f->writable);
}

// Until the file's fd is ready for `mask`, or the original would answer at
// once anyway (closed, non-blocking, wrong direction). False with an
// exception set.
template <typename CurrentFd>
bool wait_ready_loop(CurrentFd current_fd, short mask) {
  for (;;) {
    int fd = current_fd();
    if (fd < 0 || fd_ready_now(fd, mask) || answers_at_once(fd, mask)) return true;
    // Ready may not last (another thread of ours may read first): look again.
    if (wait_fd_on_hub(fd, mask, -1) == FdReadiness::kFailed) return false;
  }
}

bool wait_until_ready(PyObject* self, short mask) {
  return wait_ready_loop([self] { return as_file(self)->fd; }, mask);  // close() may end it meanwhile
}

// wait_until_ready(fd, events): os.read's and os.write's wait
// (cooperative_os.py), a FileIO's for a bare fd: returns at once when the
// fd is ready or the call would not block anyway; outside the hub, at once.
PyObject* fd_wait_until_ready(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  if (!_PyArg_CheckPositional("wait_until_ready", nargs, 2, 2)) return nullptr;
  int fd = _PyLong_AsInt(args[0]);
  long events = fd == -1 && PyErr_Occurred() ? -1 : PyLong_AsLong(args[1]);
  if (events == -1 && PyErr_Occurred()) return nullptr;
  if (GreenHub::cooperative_here() && !wait_ready_loop([fd] { return fd; }, static_cast<short>(events)))
    return nullptr;
  Py_RETURN_NONE;
}

PyObject* cooperative_read(PyObject* self, PyObject* const* args, Py_ssize_t nargs) {
  if (may_wait(self, true) && !wait_until_ready(self, POLLIN)) return nullptr;
  return call_method_fast(g_read, self, args, nargs);
}

PyObject* cooperative_readinto(PyObject* self, PyObject* buffer) {
  if (may_wait(self, true) && !wait_until_ready(self, POLLIN)) return nullptr;
  return call_method_o(g_readinto, self, buffer);
}

bool is_regular(int fd) {
  struct stat st;
  return ::fstat(fd, &st) == 0 && !S_ISFIFO(st.st_mode) && !S_ISSOCK(st.st_mode) && !S_ISCHR(st.st_mode);
}

// Until EOF, each read after the hub says there is data: the same bytes
// python3's readall returns (None when a non-blocking fd has nothing yet).
PyObject* cooperative_readall(PyObject* self, PyObject*) {
  if (!may_wait(self, true) || is_regular(as_file(self)->fd)) return call_method_noargs(g_readall, self);
  constexpr Py_ssize_t kChunk = 64 * 1024;
  PyRef size = PyRef::steal(PyLong_FromSsize_t(kChunk));
  PyRef chunks = PyRef::steal(PyList_New(0));
  if (!size || !chunks) return nullptr;
  for (;;) {
    if (!wait_until_ready(self, POLLIN)) return nullptr;
    PyObject* arg = size.get();
    PyRef chunk = PyRef::steal(call_method_fast(g_read, self, &arg, 1));
    if (!chunk) return nullptr;
    if (chunk.get() == Py_None) {
      if (PyList_GET_SIZE(chunks.get()) == 0) return chunk.release();
      break;
    }
    if (PyBytes_GET_SIZE(chunk.get()) == 0) break;
    if (PyList_Append(chunks.get(), chunk.get()) < 0) return nullptr;
  }
  PyRef empty = PyRef::steal(PyBytes_FromStringAndSize(nullptr, 0));
  return empty ? _PyBytes_Join(empty.get(), chunks.get()) : nullptr;
}

// A write that could block the hub: in pieces of at most PIPE_BUF (a pipe
// that reports room takes that much without blocking), each after the hub
// says there is room; the total, as a blocking write returns it. An error
// after some bytes went out returns what was written, as write(2) does.
PyObject* write_in_pieces(PyObject* self, PyObject* data, Py_ssize_t total) {
  PyRef view = PyRef::steal(PyMemoryView_FromObject(data));
  if (!view) return nullptr;
  Py_ssize_t written = 0;
  while (written < total) {
    if (!wait_until_ready(self, POLLOUT)) return nullptr;
    Py_ssize_t end = written + std::min<Py_ssize_t>(PIPE_BUF, total - written);
    PyRef piece = PyRef::steal(PySequence_GetSlice(view.get(), written, end));
    if (!piece) return nullptr;
    PyRef n = PyRef::steal(call_method_o(g_write, self, piece.get()));
    if (!n) {
      if (written == 0) return nullptr;
      PyErr_Clear();
      break;
    }
    if (n.get() == Py_None) {  // made non-blocking meanwhile
      if (written == 0) return n.release();
      break;
    }
    Py_ssize_t done = PyLong_AsSsize_t(n.get());
    if (done < 0) return nullptr;
    written += done;
    if (done == 0) break;
  }
  return PyLong_FromSsize_t(written);
}

PyObject* cooperative_write(PyObject* self, PyObject* data) {
  if (!may_wait(self, false)) return call_method_o(g_write, self, data);
  Py_buffer buffer;
  if (PyObject_GetBuffer(data, &buffer, PyBUF_SIMPLE) < 0) {
    PyErr_Clear();
    return call_method_o(g_write, self, data);  // python3's own error
  }
  Py_ssize_t total = buffer.len;
  PyBuffer_Release(&buffer);
  int fd = as_file(self)->fd;
  bool room = fd_ready_now(fd, POLLOUT);
  if (room && total <= PIPE_BUF) return call_method_o(g_write, self, data);
  if (answers_at_once(fd, POLLOUT) || is_regular(fd)) return call_method_o(g_write, self, data);
  return write_in_pieces(self, data, total);
}

PyMethodDef g_read_def = {"read", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(cooperative_read)),
                          METH_FASTCALL, nullptr};
PyMethodDef g_readinto_def = {"readinto", cooperative_readinto, METH_O, nullptr};
PyMethodDef g_readall_def = {"readall", cooperative_readall, METH_NOARGS, nullptr};
PyMethodDef g_write_def = {"write", cooperative_write, METH_O, nullptr};

// The layout above, checked on a real FileIO (of /dev/null, read-only).
bool layout_matches(PyTypeObject* type) {
  if (type->tp_basicsize != static_cast<Py_ssize_t>(sizeof(FileIOLayout))) return false;
  int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  PyRef file = PyRef::steal(PyObject_CallFunction(reinterpret_cast<PyObject*>(type), "is", fd, "rb"));
  if (!file) {
    PyErr_Clear();
    ::close(fd);
    return false;
  }
  PyRef seekable = PyRef::steal(PyObject_CallMethod(file.get(), "seekable", nullptr));
  FileIOLayout* f = as_file(file.get());
  bool same = seekable && f->fd == fd && f->readable && !f->writable && f->seekable == 1 && f->closefd;
  PyRef closed = PyRef::steal(PyObject_CallMethod(file.get(), "close", nullptr));  // and so fd
  PyErr_Clear();
  return same && closed;
}

PyObject* g_ours[4] = {};  // our descriptors, made once

PyObject* cooperative_fileio_methods(PyObject*, PyObject*) {
  PyRef io = PyRef::steal(PyImport_ImportModule("_io"));
  PyRef type_object = io ? PyRef::steal(PyObject_GetAttrString(io.get(), "FileIO")) : PyRef();
  if (!type_object) return nullptr;
  auto* type = reinterpret_cast<PyTypeObject*>(type_object.get());
  if (!g_ours[0] && !layout_matches(type)) {
    PyErr_SetString(PyExc_RuntimeError, "io.FileIO is not laid out as tfpython expects (CPython 3.11)");
    return nullptr;
  }
  PyMethodDef* defs[] = {&g_read_def, &g_readinto_def, &g_readall_def, &g_write_def};
  PyObject** originals[] = {&g_read, &g_readinto, &g_readall, &g_write};
  PyRef methods = PyRef::steal(PyDict_New());
  if (!methods) return nullptr;
  for (int i = 0; i < 4; ++i) {
    PyRef method = PyRef::steal(replacement_method(type, defs[i], originals[i], &g_ours[i]));
    if (!method || PyDict_SetItemString(methods.get(), defs[i]->ml_name, method.get()) < 0) return nullptr;
  }
  return methods.release();
}

PyMethodDef g_methods[] = {
    {"cooperative_fileio_methods", cooperative_fileio_methods, METH_NOARGS,
     "cooperative_fileio_methods(): {name: method} for io.FileIO whose reads and writes on pipes and ttys\n"
     "wait on the hub (the monkey registry puts them in the type)."},
    {"wait_until_ready", reinterpret_cast<PyCFunction>(fd_wait_until_ready), METH_FASTCALL,
     "wait_until_ready(fd, events): inside the hub, until fd is ready for events or a call would not block."},
    {nullptr, nullptr, 0, nullptr}};

}  // namespace

int add_file_io(PyObject* module) { return PyModule_AddFunctions(module, g_methods); }

}  // namespace tf::core
