"""os: reading and writing pipes, and waiting for a child, without blocking
the hub.

os.read/os.write wait for readiness on the ring first (a regular file is
always ready, so files cost one extra check only when the fd would block).
os.waitpid for one child waits on a pidfd (kernel >= 5.3) becoming readable.
Outside the hub, and for what they cannot serve (waitpid(-1), WNOHANG), the
originals are called unchanged.
"""
import os as _os
from fcntl import F_GETFL as _F_GETFL, fcntl as _fcntl

from theframework._core import core

_hub_is_running = core.hub_is_running
_PIPE_BUF = 4096


def _flags(fd):
    """The fd's status flags, or None for a bad fd (the original reports it)."""
    try:
        return _fcntl(fd, _F_GETFL)
    except (OSError, ValueError, TypeError, OverflowError):
        return None


def _blocking(fd):
    flags = _flags(fd)
    return flags is not None and not flags & _os.O_NONBLOCK


def make_read(original):
    def read(fd, length, /):
        if _hub_is_running() and _blocking(fd):
            core.wait_readable(fd)
        return original(fd, length)
    read.__doc__ = original.__doc__
    return read


def make_write(original):
    def write(fd, data, /):
        flags = _flags(fd) if _hub_is_running() else None
        # Not cooperative: outside the hub, a bad or non-blocking fd, and a
        # read-only one (the read end of a pipe never reports POLLOUT; its
        # write fails at once under python3).
        if flags is None or flags & _os.O_NONBLOCK or flags & _os.O_ACCMODE == _os.O_RDONLY:
            return original(fd, data)
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
