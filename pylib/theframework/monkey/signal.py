"""signal: the hub's own wake-up fd stays invisible.

The hub hands Python a pipe with set_wakeup_fd so that a signal (or
_thread.interrupt_main) wakes the ring. Programs see python3's view: no
wake-up fd until they set one. While a program's fd is installed the hub
relies on EINTR alone; setting -1 gives the pipe back to the hub.
"""
from theframework._core import core


def patches(signal):
    original = signal.set_wakeup_fd
    program_fd = [-1]

    def set_wakeup_fd(fd, /, *, warn_on_full_buffer=True):
        hub_fd = core.signal_wakeup_fd()
        previous = original(fd, warn_on_full_buffer=warn_on_full_buffer)  # python3's checks
        if hub_fd < 0:
            return previous
        previous, program_fd[0] = program_fd[0], fd
        if fd == -1:
            original(hub_fd, warn_on_full_buffer=False)
        return previous

    set_wakeup_fd.__doc__ = original.__doc__
    return {"set_wakeup_fd": set_wakeup_fd}
