"""select.select and select.poll, cooperative inside the hub.

Readiness is first checked with the original call and a zero timeout (which
also gives python3's exact errors for bad input). Only if nothing is ready
does the caller wait: one poll per fd on the ring, all owned by one
waiter, the rest cancelled at the first completion; then the original
call with a zero timeout collects everything that is ready. No polling
loop anywhere. A poll object (and so a selector) shared between threads
sees registrations made while a thread waits in it, as epoll does: the
change ends the wait, which starts over on the new set.
"""
import math
import operator
import time as _time

from theframework._core import core, hidden

POLLIN, POLLPRI, POLLOUT = 0x001, 0x002, 0x004
_hub_is_running = core.hub_is_running
_wait_any = core.wait_any
_Waiter = core.Waiter
_yield_if_due = core.yield_if_due
_MAX_SECONDS = (2**63 - 1) / 1e9  # _PyTime_t nanoseconds


def _fileno(obj):
    if isinstance(obj, int):
        return obj
    return obj.fileno()


def _select_timeout(timeout):
    """python3's checks on select()'s timeout; seconds, or None."""
    if timeout is None:
        return None
    if isinstance(timeout, float):
        if math.isnan(timeout):
            raise ValueError("Invalid value NaN (not a number)")
        seconds = timeout
    else:
        try:
            seconds = operator.index(timeout)
        except TypeError:
            raise TypeError("timeout must be a float or None") from None
    if seconds > _MAX_SECONDS:
        raise OverflowError("timestamp too large to convert to C _PyTime_t")
    if seconds < 0:
        raise ValueError("timeout must be non-negative")
    return seconds


def make_select(original_select):
    def select(*args, **kwargs):
        if not _hub_is_running() or kwargs or not 3 <= len(args) <= 4:
            return original_select(*args, **kwargs)  # python3's own errors
        rlist, wlist, xlist = args[:3]
        timeout = args[3] if len(args) == 4 else None
        seconds = _select_timeout(timeout)
        deadline = None if seconds is None else _time.monotonic() + seconds
        while True:
            ready = original_select(rlist, wlist, xlist, 0)
            if ready[0] or ready[1] or ready[2] or seconds == 0:
                _yield_if_due()
                return ready
            masks = {}
            for objects, mask in ((rlist, POLLIN), (wlist, POLLOUT), (xlist, POLLPRI)):
                for obj in objects:
                    fd = _fileno(obj)
                    masks[fd] = masks.get(fd, 0) | mask
            left = None if deadline is None else max(0.0, deadline - _time.monotonic())
            if not _wait_any(list(masks.items()), left):
                return ([], [], [])

    select.__doc__ = original_select.__doc__
    return select


def make_poll(original_poll):
    original_type = type(original_poll())
    class poll:
        """select.poll(), cooperative inside the hub."""

        __slots__ = ("_poll", "_masks", "_polling", "_waiter", "__weakref__")

        def __init__(self, *args):
            if len(args) != 1 or type(args[0]) is not original_type:
                raise TypeError("cannot create 'select.poll' instances")
            self._poll = args[0]
            self._masks = {}
            self._polling = False
            self._waiter = None  # while a thread waits in poll(): what ends that wait

        # A thread waiting in poll() sees a change at once, as an
        # epoll_wait() does: a new registration or mask is added to its
        # wait (one more poll); an unregistration ends the wait, which
        # starts over without the fd (so a close of it that follows cannot
        # reach the wait).

        def register(self, fd, eventmask=POLLIN | POLLPRI | POLLOUT, /):
            self._poll.register(fd, eventmask)
            fd = _fileno(fd)
            self._masks[fd] = eventmask
            self._watch(fd, eventmask)

        def modify(self, fd, eventmask, /):
            self._poll.modify(fd, eventmask)
            fd = _fileno(fd)
            self._masks[fd] = eventmask
            self._watch(fd, eventmask)

        def unregister(self, fd, /):
            self._poll.unregister(fd)
            del self._masks[_fileno(fd)]
            self._restart_wait()

        def _watch(self, fd, eventmask):
            waiter = self._waiter
            if waiter is not None and not waiter.watch_also(fd, eventmask):
                self._restart_wait()

        def _restart_wait(self):
            waiter = self._waiter
            if waiter is not None and not waiter.wake():
                waiter.wake_threadsafe()  # the waiter's hub is another OS thread's

        def poll(self, timeout=None, /):
            if not _hub_is_running():
                return self._poll.poll(timeout)
            if self._polling:
                raise RuntimeError("concurrent poll() invocation")
            self._polling = True
            try:
                return self._poll_cooperatively(timeout)
            finally:
                self._polling = False

        def _poll_cooperatively(self, timeout):
            ms = -1 if timeout is None else _poll_timeout_ms(timeout)
            ready = self._poll.poll(0)
            if ready or ms == 0:
                _yield_if_due()
                return ready
            deadline = None if ms < 0 else _time.monotonic() + ms / 1000.0
            self._waiter = waiter = _Waiter()
            try:
                while True:
                    left = None if deadline is None else max(0.0, deadline - _time.monotonic())
                    if not _wait_any(list(self._masks.items()), left, waiter):
                        return []
                    ready = self._poll.poll(0)
                    if ready:
                        return ready
            finally:
                self._waiter = None

    poll.__module__ = "select"
    hidden(poll)

    def make(*args, **kwargs):
        return poll(original_poll(*args, **kwargs))  # python3's own argument errors
    make.__doc__ = original_poll.__doc__
    make.__name__ = make.__qualname__ = "poll"
    return make


def _poll_timeout_ms(timeout):
    """python3's poll(): whole milliseconds (-1: forever), and its errors."""
    if isinstance(timeout, float):
        if math.isnan(timeout):
            raise ValueError("Invalid value NaN (not a number)")
        if abs(timeout) * 1e6 >= 2**63:
            raise OverflowError("timestamp too large to convert to C _PyTime_t")
        # _PyTime_ROUND_TIMEOUT: up for positive values, down for negative
        ms = math.ceil(timeout) if timeout >= 0 else math.floor(timeout)
    else:
        try:
            ms = operator.index(timeout)
        except TypeError:
            raise TypeError("timeout must be an integer or None") from None
    if abs(ms) * 10**6 >= 2**63:
        raise OverflowError("timestamp too large to convert to C _PyTime_t")
    if not -2**31 <= ms < 2**31:
        raise OverflowError("timeout is too large")
    return -1 if ms < 0 else ms
