"""The parts of ``threading`` itself that tfpython replaces (the rest of
threading runs unchanged over the patched ``_thread``)."""
import sys
import threading as _threading
import types
from _weakrefset import WeakSet

from theframework._core import core as _core

# threading.Event, whose Condition is made on the first wait that has to
# block. Every Thread has an Event (Thread._started) that is set before
# anyone waits on it: with python3's Event that was a Condition, a lock, a
# deque and two bound methods per thread, for nothing.
#
# set() writes the flag before it looks for the Condition, and a waiter
# reads the flag under the Condition's lock after making it; so a set()
# that finds no Condition always comes before the flag is read there, and
# no wake-up is lost, with fiber-threads, greenlets or real threads.


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
# Parks a fiber-thread or greenlet, blocks a real thread.
_make_cond_lock = _core.allocate_lock()


# ------------------------------------------------------- Thread internals --

def maintain_shutdown_locks():
    """threading prunes released locks from _shutdown_locks at every thread
    start and stop: O(n) each, O(n^2) for n threads. A fiber-thread's lock
    leaves the set when the thread ends (core/thread/start.cpp), so
    there is nothing to prune."""


# threading._dangling: a WeakSet of every Thread made, for test support and
# for _after_fork. python3 keeps a weak reference per Thread in it (~185
# bytes and one more object for the cycle collector to walk, per Thread:
# 18 MB for 100k threads) though most programs never read it. Here the set
# leaves Threads out until something reads it; the first read finds them
# among the collector's objects (the live ones that finished Thread's
# __init__, which is what python3's set holds) and turns the set back into a
# plain WeakSet. Anything else added before that is added for real.

def _read_for_real(dangling):
    """Turns the set into the WeakSet python3 has (its class and add() are
    WeakSet's again), its Threads put in."""
    cls = type(dangling)
    if not issubclass(cls, DanglingUntilRead):
        return
    dangling.__class__ = WeakSet
    dangling.__dict__.pop("add", None)
    import gc
    for thread in _core.instances_of(gc.get_objects(), cls.thread_class):
        if thread.__dict__.get("_initialized"):
            dangling.add(thread)


class DanglingUntilRead(WeakSet):
    """threading._dangling's class until its first read (every method but
    add reads); a subclass per threading module names its Thread class."""

    __slots__ = ()
    thread_class = None


def _reader(method):
    def read(self, /, *args, **kwargs):
        _read_for_real(self)
        return method(self, *args, **kwargs)
    read.__name__, read.__qualname__, read.__doc__ = method.__name__, method.__qualname__, method.__doc__
    return read


for _name, _method in list(vars(WeakSet).items()):
    if isinstance(_method, types.FunctionType) and _name not in ("__init__", "add", "_commit_removals"):
        # Our frame stays out of the tracebacks of what WeakSet raises.
        setattr(DanglingUntilRead, _name, _core.hide_frames(_reader(_method), True))
del _name, _method


def dangling_add(threading):
    """threading._dangling.add, which every Thread made goes through. The
    set becomes a DanglingUntilRead (type() still reads as WeakSet's):
    Threads are left out until it is read; anything else makes it a plain
    WeakSet and goes in. Undoing the patch leaves the class: the Threads
    left out are found on the first read all the same."""
    dangling, thread_class = threading._dangling, threading.Thread
    dangling.__class__ = type(WeakSet.__name__, (DanglingUntilRead,), {
        "__slots__": (), "thread_class": thread_class,
        "__module__": WeakSet.__module__, "__qualname__": WeakSet.__qualname__})

    def add_for_real(*args, **kwargs):
        _read_for_real(dangling)
        return dangling.add(*args, **kwargs)
    return _core.lazy_adder(thread_class, _core.hide_frames(add_for_real))


class _ExcepthookInvoker:
    """What Thread keeps in _invoke_excepthook: threading's hook is called
    with the current exception and the thread; the hooks found when the
    thread was made stand in if threading's globals are gone (late at
    shutdown). One object serves every thread made under the same hooks,
    instead of a closure and five cells per thread."""

    __slots__ = ("threading", "old_excepthook", "old_sys_excepthook", "sys", "print")

    def __init__(self, threading, old_excepthook, old_sys_excepthook):
        self.threading = threading
        self.old_excepthook = old_excepthook
        self.old_sys_excepthook = old_sys_excepthook
        self.sys = sys
        self.print = print

    def __call__(self, thread):
        local_sys = self.sys
        args = None
        try:
            hook = self.threading.excepthook
            if hook is None:
                hook = self.old_excepthook
            args = self.threading.ExceptHookArgs([*local_sys.exc_info(), thread])
            hook(args)
        except Exception as exc:
            exc.__suppress_context__ = True
            args = None
            if local_sys is not None and local_sys.stderr is not None:
                stderr = local_sys.stderr
            else:
                stderr = thread._stderr
            self.print("Exception in threading.excepthook:", file=stderr, flush=True)
            if local_sys is not None and local_sys.excepthook is not None:
                sys_excepthook = local_sys.excepthook
            else:
                sys_excepthook = self.old_sys_excepthook
            sys_excepthook(*local_sys.exc_info())
        finally:
            args = None  # no cycle through the exception


def make_invoke_excepthook(threading):
    shared = [None]

    def _make_invoke_excepthook():
        old_excepthook = threading.excepthook
        old_sys_excepthook = sys.excepthook
        if old_excepthook is None:
            raise RuntimeError("threading.excepthook is None")
        if old_sys_excepthook is None:
            raise RuntimeError("sys.excepthook is None")
        invoker = shared[0]
        if (invoker is None or invoker.old_excepthook is not old_excepthook
                or invoker.old_sys_excepthook is not old_sys_excepthook):
            invoker = shared[0] = _ExcepthookInvoker(threading, old_excepthook, old_sys_excepthook)
        return invoker
    return _make_invoke_excepthook
