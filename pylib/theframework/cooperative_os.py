"""os: reading and writing pipes, waiting for children and running shell
commands without blocking the hub.

os.read/os.write wait as a FileIO does (core.wait_until_ready: poll(2)
with a zero timeout first, the hub only when the fd is not ready, and a
look again after each wake-up); a regular file is always ready.
os.waitpid for one child tries with WNOHANG (a process that is not our
child gets python3's ChildProcessError), then waits on a pidfd (kernel >=
5.3) becoming readable; waits for any child (wait, wait3, waitpid(-1) or
of a process group, and wait4 with those, or for stops) try with WNOHANG
and otherwise wait for a pool thread's waitid(WNOWAIT). os.system runs
the shell with the wait on the hub (core/os/system.cpp). Outside the hub,
and with WNOHANG, the originals are called unchanged.
"""
import os as _os
import sys as _sys
from stat import S_ISREG as _S_ISREG
from fcntl import F_GETFL as _F_GETFL, fcntl as _fcntl
from operator import index as _index

from theframework._core import core

_hub_is_running = core.hub_is_running
_PIPE_BUF = 4096
_POLLIN, _POLLOUT = 0x001, 0x004  # poll.h's (importing select here would patch it early)


def _flags(fd):
    """The fd's status flags, or None for a bad fd or a non-integer (the
    original reports it: fcntl would take any object with fileno())."""
    try:
        return _fcntl(_index(fd), _F_GETFL)
    except (OSError, ValueError, TypeError, OverflowError):
        return None


def _positive(length):
    """A length read() takes (a Py_ssize_t) and that is not 0."""
    try:
        return 0 < _index(length) <= _sys.maxsize
    except TypeError:
        return False


def make_read(original):
    def read(fd, length, /):
        flags = _flags(fd) if _hub_is_running() else None
        # Not cooperative: outside the hub, a bad, non-blocking or write-only
        # fd (the write end of a pipe never reports POLLIN; its read fails
        # at once under python3), and a length that is not positive (0
        # returns b"" at once; a bad one gets python3's error).
        if (flags is None or flags & _os.O_NONBLOCK or flags & _os.O_ACCMODE == _os.O_WRONLY
                or not _positive(length)):
            return original(fd, length)
        # Looks again after each wake-up: another reader may have emptied it.
        core.wait_until_ready(fd, _POLLIN)
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
        try:
            view = memoryview(data)
        except TypeError:
            return original(fd, data)  # not a buffer: python3's TypeError
        # Nothing to write returns 0 at once, even to a full pipe; a buffer
        # that is not C-contiguous gets python3's BufferError.
        if not view.nbytes or not view.c_contiguous:
            return original(fd, data)
        # A regular file takes it whole (and O_APPEND stays atomic).
        if view.nbytes > _PIPE_BUF and _S_ISREG(_os.fstat(fd).st_mode):
            return original(fd, data)
        view = view.cast("B")
        total = 0
        # A blocking write to a pipe writes everything; so do we, in pieces
        # that fit once the pipe reports room (PIPE_BUF is atomic).
        while True:
            core.wait_until_ready(fd, _POLLOUT)
            n = original(fd, view[total:total + _PIPE_BUF] if len(view) - total > _PIPE_BUF else view[total:])
            total += n
            if total >= len(view) or not n:
                return total
    write.__doc__ = original.__doc__
    return write


def _wait_for_child(pid, options):
    """Until a child in waitpid's set for ``pid`` can be waited for: a thread
    of the hub's pool blocks in waitid() with WNOWAIT (nothing is reaped;
    there is no fd for "any child") while the calling thread or greenlet
    waits on the hub."""
    if pid > 0:
        idtype, ident = _os.P_PID, pid
    elif pid == -1:
        idtype, ident = _os.P_ALL, 0
    else:
        idtype, ident = _os.P_PGID, (_os.getpgrp() if pid == 0 else -pid)
    flags = _os.WEXITED | _os.WNOWAIT
    if options & _os.WUNTRACED:
        flags |= _os.WSTOPPED
    if options & _os.WCONTINUED:
        flags |= _os.WCONTINUED
    from theframework.threadpool import run_in_thread  # not at start-up: it imports signal
    try:
        run_in_thread(_os.waitid, idtype, ident, flags)
    except OSError:
        pass  # no such child: the caller's own call says so, as python3's would


def _wait_any(wait_now, pid, options):
    """wait_now(options | WNOHANG) until it reports a child (pid != 0)."""
    while True:
        result = wait_now(options | _os.WNOHANG)
        if result[0]:
            return result
        _wait_for_child(pid, options)


def _cooperative(options):
    return not options & _os.WNOHANG and _hub_is_running()


def make_waitpid(original):
    pidfd_open = getattr(_os, "pidfd_open", None)
    state_changes = _os.WUNTRACED | _os.WCONTINUED  # a pidfd reports only the exit

    def waitpid(pid, options, /):
        if not _cooperative(options):
            return original(pid, options)
        if pid <= 0 or options & state_changes or pidfd_open is None:
            return _wait_any(lambda flags: original(pid, flags), pid, options)
        # Not a child of ours: python3's ChildProcessError at once (a pidfd
        # opens for any process, and would wait for a stranger to end).
        # A child that has ended is reaped here.
        result = original(pid, options | _os.WNOHANG)
        if result[0]:
            return result
        try:
            pidfd = pidfd_open(pid)
        except ProcessLookupError:
            pidfd = None  # reaped meanwhile: the original says what python3 says
        except OSError:
            # No fd to wait on (EMFILE...): the pool's wait, not a blocking call.
            return _wait_any(lambda flags: original(pid, flags), pid, options)
        if pidfd is not None:
            try:
                core.wait_readable(pidfd)
            finally:
                _os.close(pidfd)
        return original(pid, options)
    waitpid.__doc__ = original.__doc__
    return waitpid


def make_wait(waitpid):
    original = _os.wait

    def wait():
        if not _hub_is_running():
            return original()
        return _wait_any(lambda flags: waitpid(-1, flags), -1, 0)
    wait.__doc__ = original.__doc__
    return wait


def make_wait3(original):
    def wait3(options):
        if not _cooperative(options):
            return original(options)
        return _wait_any(original, -1, options)
    wait3.__doc__ = original.__doc__
    return wait3


def make_wait4(original):
    def wait4(pid, options):
        if not _cooperative(options):
            return original(pid, options)
        return _wait_any(lambda flags: original(pid, flags), pid, options)
    wait4.__doc__ = original.__doc__
    return wait4


def _command_argument(args, kwargs):
    """os.system's one argument, or None when the call is malformed."""
    if len(args) == 1 and not kwargs:
        return args[0]
    if not args and list(kwargs) == ["command"]:
        return kwargs["command"]
    return None


def make_system(original):
    def system(*args, **kwargs):
        command = _command_argument(args, kwargs) if _hub_is_running() else None
        if command is None:
            return original(*args, **kwargs)  # outside the hub, and python3's errors
        command = _os.fsencode(command)
        if b"\0" in command:
            raise ValueError("embedded null byte")
        _sys.audit("os.system", command)
        return core.run_shell(command)
    system.__doc__ = original.__doc__
    return system
