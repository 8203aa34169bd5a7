"""Running blocking functions on real OS threads while the calling thread
or greenlet waits without blocking the hub (the escape hatch, and DNS).

Workers are plain OS threads made with the original ``_thread`` functions;
a finished job wakes its waiter through the hub's eventfd.
"""
import signal
from collections import deque

from theframework._core import core as _core

_Waiter = _core.Waiter
_MAX_WORKERS = 16


def _originals():
    from theframework.monkey import get_original
    return get_original("_thread", "start_new_thread"), get_original("_thread", "allocate_lock")


class ThreadPool:
    """Workers start on demand, up to max_workers: a job queued while every
    worker is busy starts another, so a burst of lookups runs at once. An
    idle worker sleeps on a lock of its own, which submit() releases."""

    def __init__(self, max_workers=_MAX_WORKERS):
        self.max_workers = max_workers
        self._jobs = deque()
        self._workers = 0
        self._idle = []  # the wake-up locks of idle workers
        start_new_thread, allocate_lock = _originals()
        self._start_new_thread = start_new_thread
        self._allocate_lock = allocate_lock
        self._lock = allocate_lock()

    def submit(self, waiter, function, args, kwargs):
        with self._lock:
            self._jobs.append((waiter, function, args, kwargs))
            wake = self._idle.pop() if self._idle else None
            start = wake is None and self._workers < self.max_workers
            if start:
                self._workers += 1
        if wake is not None:
            wake.release()
        elif start:
            _core.pool_threads(1)
            self._start_new_thread(self._work, ())

    def _work(self):
        # Signals go to the main thread, whose hub wait they interrupt, as
        # they would in a python3 program that has no pool threads.
        signal.pthread_sigmask(signal.SIG_BLOCK, signal.valid_signals())
        wake = self._allocate_lock()
        wake.acquire()
        try:
            while True:
                with self._lock:
                    job = self._jobs.popleft() if self._jobs else None
                    if job is None:
                        self._idle.append(wake)
                if job is None:
                    wake.acquire()  # released by submit(), which took us off the list
                    continue
                waiter, function, args, kwargs = job
                try:
                    outcome = (True, function(*args, **kwargs))
                except BaseException as e:  # handed to the waiting thread or greenlet
                    outcome = (False, e)
                del job, function, args, kwargs
                waiter.wake_threadsafe(outcome)
        finally:
            _core.pool_threads(-1)


_pool = None


def _get_pool():
    global _pool
    if _pool is None:
        _pool = ThreadPool()
    return _pool


def run_in_thread(function, *args, **kwargs):
    """Call ``function(*args, **kwargs)`` on a real OS thread; the calling
    thread or greenlet waits cooperatively and gets the result or the
    exception.
    Outside a hub the function is simply called."""
    if not _core.hub_is_running():
        return function(*args, **kwargs)
    waiter = _Waiter()
    _core.hold(1)
    try:
        # The waiter's name is published when wait() parks, so the job is
        # queued from inside wait(): a callback runs it right after parking.
        _core.call_soon(_get_pool().submit, waiter, function, args, kwargs)
        ok, value = waiter.wait()
    finally:
        _core.hold(-1)
    if ok:
        return value
    raise value
