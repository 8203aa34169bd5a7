"""os: reading and writing pipes, and waiting for a child, without blocking
the hub.

os.read/os.write wait for readiness on the ring first (a regular file is
always ready, so files cost one extra check only when the fd would block).
os.waitpid for one child waits on a pidfd (kernel >= 5.3) becoming readable.
Outside the hub, and for what they cannot serve (waitpid(-1), WNOHANG), the
originals are called unchanged.
"""
import os as _os

from theframework._core import core

_hub_is_running = core.hub_is_running
_PIPE_BUF = 4096


def _blocking(fd):
    try:
        return _os.get_blocking(fd)
    except OSError:
        return False  # let the original report the bad fd


def make_read(original):
    def read(fd, length, /):
        if _hub_is_running() and _blocking(fd):
            core.wait_readable(fd)
        return original(fd, length)
    read.__doc__ = original.__doc__
    return read


def _writable_mode(fd):
    """False for an fd opened read-only (the read end of a pipe): its write
    fails at once under python3, and it would never report POLLOUT."""
    import fcntl
    try:
        return fcntl.fcntl(fd, fcntl.F_GETFL) & _os.O_ACCMODE != _os.O_RDONLY
    except OSError:
        return False


def make_write(original):
    def write(fd, data, /):
        if not (_hub_is_running() and _blocking(fd) and _writable_mode(fd)):
            return original(fd, data)  # python3's own result or error
        view = memoryview(data).cast("B")
        total = 0
        # A blocking write to a pipe writes everything; so do we, in pieces
        # that fit once the pipe reports room (PIPE_BUF is atomic).
        while True:
            core.wait_writable(fd)
            n = original(fd, view[total:total + _PIPE_BUF] if len(view) - total > _PIPE_BUF else view[total:])
            total += n
            if total >= len(view) or not n:
                return total
    write.__doc__ = original.__doc__
    return write


def make_waitpid(original):
    pidfd_open = getattr(_os, "pidfd_open", None)

    def waitpid(pid, options, /):
        if pid > 0 and not options & _os.WNOHANG and pidfd_open is not None and _hub_is_running():
            try:
                pidfd = pidfd_open(pid)
            except OSError:
                pidfd = None  # not our child or gone: the original says what python3 says
            if pidfd is not None:
                try:
                    core.wait_readable(pidfd)
                finally:
                    _os.close(pidfd)
        return original(pid, options)
    waitpid.__doc__ = original.__doc__
    return waitpid
