"""Waiting for a real OS thread (or a real lock) from a fiber-thread or
greenlet without blocking the hub. A real thread's end is announced only by
its C-level lock (what Thread.join() waits for), which has no fd: a thread
of the hub's pool blocks on it while the waiter waits on the hub. If the
waiter gives up first (an exception thrown in), a lock the pool thread
then gets is released again, so a later join still sees it."""
from theframework._core import core


def acquire_real_lock(lock, blocking=True, timeout=-1):
    """lock.acquire(blocking, timeout) for a real _thread.lock."""
    if not blocking or timeout == 0 or not core.hub_is_running():
        return lock.acquire(blocking, timeout)
    if lock.acquire(False):
        return True
    from theframework.monkey import get_original
    from theframework.threadpool import run_in_thread
    guard = get_original("_thread", "allocate_lock")()
    state = {"gave_up": False, "got": False}

    def acquire_for_the_greenlet():
        got = lock.acquire(True, timeout)
        with guard:
            if state["gave_up"]:
                if got:
                    lock.release()
                return False
            state["got"] = got
        return got
    try:
        return run_in_thread(acquire_for_the_greenlet)
    except BaseException:
        with guard:
            state["gave_up"] = True
            if state["got"]:
                lock.release()
        raise


class CooperativeTstateLock:
    """A real thread's tstate lock, as Thread.join() sees it: acquire()
    waits on the hub in a fiber-thread or greenlet; the rest is the lock's
    own."""

    __slots__ = ("lock",)

    def __init__(self, lock):
        self.lock = lock

    def acquire(self, blocking=True, timeout=-1):
        return acquire_real_lock(self.lock, blocking, timeout)

    def release(self):
        self.lock.release()

    def locked(self):
        return self.lock.locked()

    def _at_fork_reinit(self):
        self.lock._at_fork_reinit()

    __enter__ = acquire

    def __exit__(self, *exc):
        self.lock.release()

    def __repr__(self):
        return repr(self.lock)


def make_set_tstate_lock(threading):
    """Thread._set_tstate_lock of `threading` (a module over the real
    _thread) that keeps the thread's lock wrapped, also in _shutdown_locks."""
    original = threading.Thread._set_tstate_lock

    def _set_tstate_lock(self):
        original(self)
        raw = self._tstate_lock
        self._tstate_lock = CooperativeTstateLock(raw)
        with threading._shutdown_locks_lock:
            if raw in threading._shutdown_locks:
                threading._shutdown_locks.discard(raw)
                threading._shutdown_locks.add(self._tstate_lock)
    _set_tstate_lock.__doc__ = original.__doc__
    return _set_tstate_lock
