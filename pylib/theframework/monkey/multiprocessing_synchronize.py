"""multiprocessing.synchronize: a process-shared Lock or Semaphore (a POSIX
semaphore, with no fd to wait on) is waited for on a real thread of the
hub's pool, so the threads and greenlets that would release it keep
running, whether taken by acquire() or by a with statement. RLock and
Condition keep the blocking call: they record the owning OS thread."""


def patches(synchronize):
    from theframework import monkey
    from theframework._core import core
    from theframework.threadpool import run_in_thread
    original = synchronize.SemLock._make_methods
    recursive = synchronize.RECURSIVE_MUTEX

    def _make_methods(self):
        original(self)
        semlock = self._semlock
        if semlock.kind == recursive:
            return
        blocking_acquire = semlock.acquire

        def acquire(block=True, timeout=None):
            if not (block and core.hub_is_running()):
                return blocking_acquire(block, timeout)
            if blocking_acquire(False):
                return True
            return run_in_thread(blocking_acquire, True, timeout)
        self.acquire = acquire

    _make_methods.__doc__ = original.__doc__
    monkey.set_method(synchronize, "SemLock._make_methods", _make_methods)

    def __enter__(self):
        # python3's calls the C semlock's __enter__, a blocking acquire that
        # would stop the hub while the greenlet or thread holding the lock
        # waits on it (multiprocessing's queues take their locks with
        # `with`: Pool.terminate() after a map_async callback hung).
        return self.acquire()
    __enter__.__qualname__ = "SemLock.__enter__"
    monkey.set_method(synchronize, "SemLock.__enter__", __enter__)
    return {}
