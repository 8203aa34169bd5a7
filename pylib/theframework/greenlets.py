"""Greenlet handles: spawn, join, kill."""
import sys

from greenlet import GreenletExit, getcurrent, greenlet

from theframework._core import core as _core

_TIMED_OUT = _core.TIMED_OUT
_Waiter = _core.Waiter
_counter = 0


def _next_name():
    global _counter
    _counter += 1
    return "Greenlet-%d" % _counter


class Greenlet(_core.task_base()):
    """A greenlet started by spawn(): its result, its exception, and joins."""

    # The state (_function, _args, _kwargs, _name, value, _exception,
    # _joiners, _kill_before_start) is in slots of the C-made base class,
    # which the C side reads by offset (core/task/spawn.cpp). No per-greenlet
    # dict: a greenlet still takes attributes of its own, in greenlet's
    # dict, made only when used.
    __slots__ = ()

    def __init__(self, function, args=(), kwargs=None, name=None):
        greenlet.__init__(self, None, _core.get_hub_greenlet())
        self._function = function
        self._args = args
        self._kwargs = kwargs or None
        self._name = name
        self.value = None
        self._exception = None
        self._joiners = None
        self._kill_before_start = None

    @property
    def name(self):
        if self._name is None:
            self._name = _next_name()
        return self._name

    def __repr__(self):
        state = "dead" if self.dead else ("running" if self else "pending")
        return "<Greenlet %r %s at %#x>" % (self.name, state, id(self))

    @property
    def exception(self):
        """The exception that ended the greenlet, or None."""
        return self._exception

    def successful(self):
        return self.dead and self._exception is None

    # The body is C (no Python frame while the function runs, and at the
    # end); it calls _failed() on an exception.
    # Not bound (no method object per greenlet): it finds its greenlet.
    run = _core.hide_frames(_core.run_current_task)

    def _failed(self, exc):
        """The function raised exc; True if it must go on to the hub."""
        if isinstance(exc, GreenletExit):
            self.value = exc
            return False
        if isinstance(exc, SystemExit):
            return False  # ends this greenlet only, as it would end a thread
        self._exception = exc
        if isinstance(exc, Exception):
            self._report(exc)
            return False
        return True  # KeyboardInterrupt: the hub hands it to the main greenlet

    def _report(self, exc):
        # Like threading.excepthook: the program goes on.
        import traceback
        stderr = sys.stderr
        if stderr is None:
            return
        print("Exception in greenlet %s:" % self.name, file=stderr)
        traceback.print_exception(type(exc), exc, exc.__traceback__, file=stderr)

    def join(self, timeout=None):
        """Wait until the greenlet ends or timeout passes; True if it ended."""
        if self.dead:
            return True
        if getcurrent() is self:
            raise RuntimeError("cannot join current greenlet")
        waiter = _Waiter()
        if self._joiners is None:
            self._joiners = []
        self._joiners.append(waiter)
        try:
            waiter.wait(timeout)
        finally:
            if self._joiners is not None and waiter in self._joiners:
                self._joiners.remove(waiter)
        return self.dead

    def get(self, timeout=None):
        """The return value; re-raises the greenlet's exception."""
        self.join(timeout)
        if not self.dead:
            from theframework.timeout import Timeout
            raise Timeout(timeout)
        if self._exception is not None:
            raise self._exception
        return self.value

    def kill(self, exception=GreenletExit, block=True, timeout=None):
        """Raise ``exception`` in the greenlet; wait for it to end if block."""
        if self.dead:
            return
        if isinstance(exception, type):
            exception = exception()
        if not self:
            # Never started: switching into it would end in the hub, not
            # here. It ends, without running its function, when scheduled.
            self._kill_before_start = exception
        else:
            _core.throw(self, exception)
        if block:
            self.join(timeout)


_core.set_task_class(Greenlet)
#: spawn(function, *args, **kwargs): start ``function(*args, **kwargs)`` in
#: a new Greenlet; returns its handle. C: Greenlet(function, args, kwargs)
#: and schedule() in one call, with no Python frame.
spawn = _core.spawn


def spawn_later(seconds, function, *args, **kwargs):
    g = Greenlet(function, args, kwargs)
    _core.call_later(seconds, _core.schedule, g)
    return g


def joinall(greenlets, timeout=None, raise_error=False):
    """Wait for every greenlet (or until timeout); returns those that ended."""
    from time import monotonic
    deadline = None if timeout is None else monotonic() + timeout
    done = []
    for g in greenlets:
        remaining = None if deadline is None else max(0.0, deadline - monotonic())
        if g.join(remaining):
            done.append(g)
            if raise_error and g.exception is not None:
                raise g.exception
    return done


def kill(greenlet_, exception=GreenletExit, block=True, timeout=None):
    greenlet_.kill(exception, block, timeout)


def killall(greenlets, exception=GreenletExit, block=True, timeout=None):
    greenlets = list(greenlets)
    for g in greenlets:
        g.kill(exception, block=False)
    if block:
        joinall(greenlets, timeout)
