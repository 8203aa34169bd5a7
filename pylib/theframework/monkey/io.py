"""io: FileIO reads and writes on pipes, FIFOs, ttys and other fds that can
block wait on the hub (subprocess's pipes, os.popen, sys.stdin, input() at
a pipe, sys.stdout to a full pipe). The methods are replaced in the type
itself (open() makes FileIO objects in C, so a subclass would not be
used), through the registry like any other patch."""


def patches(io):
    from theframework._core import core
    return {"FileIO." + name: method for name, method in core.cooperative_fileio_methods().items()}
