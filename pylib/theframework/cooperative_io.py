"""io.open (and so os.fdopen and subprocess's pipes) over a pipe or socket
fd: reads and writes wait on the hub.

Under python3 a thread reading ``p.stdout`` of a Popen, or an
``os.fdopen(0, 'rb')`` of a pipe, blocks only itself; a fiber-thread
blocking in ``read()`` would block every thread, so the thread that writes
what the other end is to answer would never run (execnet and pytest-xdist,
on both sides of their pipes). For such an fd io.open builds its usual
layers over a FileIO whose reads and writes first wait for the pipe to be
ready. A pipe end set non-blocking by its user behaves as python3's. Paths,
regular files, terminals and unusual arguments go to the original.
"""
import stat as _stat
import io as _io

from theframework._core import core
from os import fstat as _os_fstat

from theframework.cooperative_os import _PIPE_BUF, _blocking

_hub_is_running = core.hub_is_running
_wait_readable = core.wait_readable
_wait_writable = core.wait_writable


class PipeFileIO(_io.FileIO):
    """io.FileIO over a pipe end, cooperative inside the hub."""

    def _wait_readable(self):
        if _hub_is_running() and not self.closed and _blocking(self.fileno()):
            _wait_readable(self.fileno())

    def readinto(self, buffer, /):
        self._wait_readable()
        return super().readinto(buffer)

    def read(self, size=-1, /):
        if size is None or size < 0:
            return self.readall()
        self._wait_readable()
        return super().read(size)

    def readall(self):
        if not _hub_is_running():
            return super().readall()
        parts = []
        while True:
            self._wait_readable()
            chunk = super().read(_io.DEFAULT_BUFFER_SIZE * 8)
            if chunk is None:  # made non-blocking meanwhile: what there was
                return b"".join(parts) if parts else None
            if not chunk:
                return b"".join(parts)
            parts.append(chunk)

    def write(self, data, /):
        if not _hub_is_running() or self.closed or not _blocking(self.fileno()):
            return super().write(data)
        # A blocking pipe write writes everything; so do we, in pieces that
        # fit once the pipe reports room (PIPE_BUF is atomic).
        view = memoryview(data).cast("B")
        total = 0
        while True:
            _wait_writable(self.fileno())
            n = super().write(view[total:total + _PIPE_BUF])
            total += n or 0
            if total >= len(view) or not n:
                return total


PipeFileIO.__qualname__ = PipeFileIO.__name__ = "FileIO"


_SIMPLE_MODES = {"r": "r", "rb": "r", "rt": "r", "w": "w", "wb": "w", "wt": "w", "a": "a", "ab": "a", "at": "a"}


def _is_pipe_or_socket(fd):
    try:
        mode = _os_fstat(fd).st_mode
    except (OSError, ValueError, OverflowError):
        return False
    return _stat.S_ISFIFO(mode) or _stat.S_ISSOCK(mode)


def make_open(io_module):
    original_open = io_module.open

    def open(file, mode="r", buffering=-1, encoding=None, errors=None, newline=None, closefd=True, opener=None):
        rawmode = _SIMPLE_MODES.get(mode) if type(mode) is str else None
        binary = rawmode is not None and "b" in mode
        if (type(file) is not int or rawmode is None or opener is not None or type(buffering) is not int
                or (binary and (buffering == 1 or encoding is not None or errors is not None
                                or newline is not None))
                or (not binary and buffering == 0) or not _hub_is_running() or not _is_pipe_or_socket(file)):
            return original_open(file, mode, buffering, encoding, errors, newline, closefd, opener)
        raw = PipeFileIO(file, rawmode, closefd)
        try:
            line_buffering = buffering == 1 or (buffering < 0 and raw.isatty())
            if buffering == 1 or buffering < 0:
                buffering = raw._blksize if raw._blksize > 1 else io_module.DEFAULT_BUFFER_SIZE
            if buffering == 0:
                return raw
            layer = io_module.BufferedReader if rawmode == "r" else io_module.BufferedWriter
            buffer = layer(raw, buffering)
            if binary:
                return buffer
            text = io_module.TextIOWrapper(buffer, encoding, errors, newline, line_buffering)
            text.mode = mode
            return text
        except BaseException:
            raw.close()
            raise

    open.__doc__ = original_open.__doc__
    open.__module__ = original_open.__module__
    return open
