"""The parts of ``threading`` itself that tfpython replaces (the rest of
threading runs unchanged over the patched ``_thread``)."""
import threading as _threading

from theframework._core import core as _core

# threading.Event, whose Condition is made on the first wait that has to
# block. Every Thread has an Event (Thread._started) that is set before
# anyone waits on it: with python3's Event that was a Condition, a lock, a
# deque and two bound methods per thread, for nothing.
#
# set() writes the flag before it looks for the Condition, and a waiter
# reads the flag under the Condition's lock after making it; so a set()
# that finds no Condition always comes before the flag is read there, and
# no wake-up is lost, with greenlets or real threads.


class Event:
    """Class implementing event objects.

    Events manage a flag that can be set to true with the set() method and reset
    to false with the clear() method. The wait() method blocks until the flag is
    true.  The flag is initially false.

    """

    def __init__(self):
        self._flag = False
        self._lazy_cond = None

    def __copy__(self):
        # python3's copy.copy() gives an Event sharing the Condition.
        self._cond
        new = type(self).__new__(type(self))
        new.__dict__.update(self.__dict__)
        return new

    def __reduce_ex__(self, protocol):
        # python3's Event holds a lock: it cannot be pickled or deep-copied.
        raise TypeError("cannot pickle '_thread.lock' object")

    @property
    def _cond(self):
        cond = self._lazy_cond
        if cond is None:
            with _make_cond_lock:  # two real threads: the first to make it wins
                cond = self._lazy_cond
                if cond is None:
                    cond = self._lazy_cond = _threading.Condition(_threading.Lock())
        return cond

    def __repr__(self):
        cls = self.__class__
        status = 'set' if self._flag else 'unset'
        return f"<{cls.__module__}.{cls.__qualname__} at {id(self):#x}: {status}>"

    def _at_fork_reinit(self):
        cond = self._lazy_cond
        if cond is not None:
            cond._at_fork_reinit()

    def is_set(self):
        """Return true if and only if the internal flag is true."""
        return self._flag

    def isSet(self):
        """Return true if and only if the internal flag is true.

        This method is deprecated, use is_set() instead.

        """
        import warnings
        warnings.warn('isSet() is deprecated, use is_set() instead',
                      DeprecationWarning, stacklevel=2)
        return self.is_set()

    def set(self):
        """Set the internal flag to true.

        All threads waiting for it to become true are awakened. Threads
        that call wait() once the flag is true will not block at all.

        """
        self._flag = True
        cond = self._lazy_cond
        if cond is not None:
            with cond:
                cond.notify_all()

    def clear(self):
        """Reset the internal flag to false.

        Subsequently, threads calling wait() will block until set() is called to
        set the internal flag to true again.

        """
        cond = self._lazy_cond
        if cond is None:
            self._flag = False
        else:
            with cond:
                self._flag = False

    def wait(self, timeout=None):
        """Block until the internal flag is true.

        If the internal flag is true on entry, return immediately. Otherwise,
        block until another thread calls set() to set the flag to true, or until
        the optional timeout occurs.

        When the timeout argument is present and not None, it should be a
        floating point number specifying a timeout for the operation in seconds
        (or fractions thereof).

        This method returns the internal flag on exit, so it will always return
        True except if a timeout is given and the operation times out.

        """
        if self._flag:
            return True
        cond = self._cond
        with cond:
            signaled = self._flag
            if not signaled:
                signaled = cond.wait(timeout)
            return signaled


Event.__module__ = "threading"
_make_cond_lock = _core.allocate_lock()  # parks a greenlet, blocks a real thread
