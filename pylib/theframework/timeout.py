"""Timeout: raise an exception in a thread or greenlet after a delay.

Expiry throws the exception into the waiting thread or greenlet; its wait
primitive cancels the kernel operation in flight before the exception
propagates.
"""

from theframework._core import core as _core


class Timeout(BaseException):
    """``with Timeout(seconds):`` raises Timeout (or ``exception``) in the
    block if it is still running after ``seconds``. A BaseException, so
    ``except Exception`` does not swallow it."""

    def __init__(self, seconds=None, exception=None):
        BaseException.__init__(self)
        self.seconds = seconds
        self.exception = exception
        self._handle = None
        self._greenlet = None

    @classmethod
    def start_new(cls, seconds=None, exception=None):
        t = cls(seconds, exception)
        t.start()
        return t

    @property
    def pending(self):
        return self._handle is not None

    def start(self):
        if self.pending:
            raise AssertionError("%r is already started" % (self,))
        if self.seconds is None:
            return
        self._greenlet = _core.current_task()
        self._handle = _core.call_later(self.seconds, self._expire)

    def _expire(self):
        self._handle = None
        target, self._greenlet = self._greenlet, None
        exc = self if self.exception is None else self.exception
        if target is not None and not target.dead:
            _core.throw(target, exc)

    def cancel(self):
        if self._handle is not None:
            _core.cancel_call(self._handle)
            self._handle = None
        self._greenlet = None

    close = cancel

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, typ, value, tb):
        self.cancel()
        if value is self and self.exception is False:
            return True
        return None

    def __str__(self):
        if self.seconds is None:
            return ""
        suffix = "" if self.seconds == 1 else "s"
        if self.exception is None:
            return "%s second%s" % (self.seconds, suffix)
        if self.exception is False:
            return "%s second%s (silent)" % (self.seconds, suffix)
        return "%s second%s: %s" % (self.seconds, suffix, self.exception)

    def __repr__(self):
        return "<Timeout seconds=%r exception=%r pending=%s>" % (self.seconds, self.exception, self.pending)


def with_timeout(seconds, function, *args, timeout_value=None, **kwargs):
    """Call function; on timeout return ``timeout_value`` instead."""
    marker = object()
    t = Timeout.start_new(seconds)
    try:
        return function(*args, **kwargs)
    except Timeout as e:
        if e is t:
            return timeout_value
        raise
    finally:
        t.cancel()
    return marker
