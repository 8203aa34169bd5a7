"""Synchronisation between greenlets of one hub."""
from theframework._core import core as _core

_Waiter = _core.Waiter
_TIMED_OUT = _core.TIMED_OUT


class Event:
    """A flag greenlets wait for; set() wakes them all."""

    __slots__ = ("_flag", "_waiters")

    def __init__(self):
        self._flag = False
        self._waiters = []

    def is_set(self):
        return self._flag

    isSet = is_set
    ready = is_set

    def set(self):
        self._flag = True
        waiters, self._waiters = self._waiters, []
        for w in waiters:
            w.wake(True)

    def clear(self):
        self._flag = False

    def wait(self, timeout=None):
        """True once the flag is set; False if timeout passes first."""
        if self._flag:
            return True
        if timeout is not None and timeout <= 0:
            return False
        w = _Waiter()
        self._waiters.append(w)
        try:
            result = w.wait(timeout)
        finally:
            if w in self._waiters:
                self._waiters.remove(w)
        return self._flag if result is _TIMED_OUT else True
