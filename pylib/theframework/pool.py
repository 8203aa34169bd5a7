"""Groups of greenlets, with an optional bound on how many run at once."""
from theframework._core import core as _core
from theframework.greenlets import Greenlet, joinall

_Waiter = _core.Waiter


class Group:
    """Tracks greenlets spawned through it; join() waits for all."""

    def __init__(self):
        self.greenlets = set()

    def __len__(self):
        return len(self.greenlets)

    def __contains__(self, g):
        return g in self.greenlets

    def __iter__(self):
        return iter(list(self.greenlets))

    def add(self, g):
        self.greenlets.add(g)

    def discard(self, g):
        self.greenlets.discard(g)
        self._on_discard()

    def _on_discard(self):
        pass

    def _wrap(self, function):
        def run(*args, **kwargs):
            try:
                return function(*args, **kwargs)
            finally:
                self.discard(_current())
        return run

    def spawn(self, function, *args, **kwargs):
        g = Greenlet(self._wrap(function), args, kwargs)
        self.add(g)
        _core.schedule(g)
        return g

    def join(self, timeout=None, raise_error=False):
        return len(joinall(list(self.greenlets), timeout, raise_error)) == 0 or not self.greenlets

    def kill(self, exception=None, block=True, timeout=None):
        from theframework.greenlets import GreenletExit, killall
        killall(list(self.greenlets), exception or GreenletExit, block, timeout)

    def map(self, function, iterable):
        gs = [self.spawn(function, item) for item in iterable]
        return [g.get() for g in gs]

    def imap_unordered(self, function, iterable):
        for g in [self.spawn(function, item) for item in iterable]:
            yield g.get()


def _current():
    from greenlet import getcurrent
    return getcurrent()


class Pool(Group):
    """A Group that runs at most ``size`` greenlets at once: spawn() waits
    for a free place."""

    def __init__(self, size=None):
        if size is not None and size < 1:
            raise ValueError("Pool size must be at least 1 (or None for unbounded)")
        Group.__init__(self)
        self.size = size
        self._free_waiters = []

    def free_count(self):
        return float("inf") if self.size is None else max(0, self.size - len(self.greenlets))

    def full(self):
        return self.free_count() <= 0

    def wait_available(self, timeout=None):
        while self.full():
            w = _Waiter()
            self._free_waiters.append(w)
            try:
                if w.wait(timeout) is _core.TIMED_OUT:
                    return self.free_count()
            finally:
                if w in self._free_waiters:
                    self._free_waiters.remove(w)
        return self.free_count()

    def _on_discard(self):
        while self._free_waiters and not self.full():
            self._free_waiters.pop(0).wake()

    def spawn(self, function, *args, **kwargs):
        self.wait_available()
        return Group.spawn(self, function, *args, **kwargs)
