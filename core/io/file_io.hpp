// io.FileIO on pipes, FIFOs, ttys, character devices and sockets, without
// blocking the hub: subprocess's pipes, os.popen(), sys.stdin, input() at a
// pipe and sys.stdout to a full pipe all read and write through FileIO.
// Its read, readinto, readall and write are replaced in the type itself
// (open() and io.open() make FileIO objects in C, so a subclass would not
// be used): in a hub-driven greenlet, a read waits on the hub until the fd
// has data (or EOF), and a write larger than PIPE_BUF goes in pieces, each
// after the hub says there is room, and returns when all is written, as a
// blocking write does. Regular files (seekable) and fds in non-blocking
// mode go straight to the originals, as does everything outside the hub.
#pragma once

#include <Python.h>

namespace tf::core {

// cooperative_fileio_methods(): the replacements for _io.FileIO's read,
// readinto, readall and write, which the monkey registry installs.
int add_file_io(PyObject* module);

}  // namespace tf::core
