"""io: FileIO reads and writes on pipes, FIFOs, ttys and other fds that can
block wait on the hub (subprocess's pipes, os.popen, sys.stdin, input() at
a pipe, sys.stdout to a full pipe). FileIO is patched in place (open()
makes it in C), so there is no replacement to record here."""


def patches(io):
    from theframework._core import core
    core.make_fileio_cooperative()
    return {}
