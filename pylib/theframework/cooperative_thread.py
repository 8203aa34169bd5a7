"""Threads run inside the hub: the cooperative parts of ``_thread``.

``threading`` is built on ``_thread``; with these in place its Thread,
Condition, Semaphore, Event, Barrier, Timer and queue.Queue all wait
cooperatively. A started thread is a fiber (core/task/fiber.hpp), and
its ident is ``id(fiber)``; code in a greenlet has ``id(greenlet)``. Both are
unique among live threads and stable for the thread's life.

Locks also work with real OS threads (the escape hatch): a real thread
blocks on an original lock of its own, and a fiber-thread or greenlet it
must wake is woken through the hub's eventfd.
"""
import sys

from greenlet import getcurrent

from theframework._core import core

_hub_is_running = core.hub_is_running
_originals = {}  # filled by install(): the _thread originals
TIMEOUT_MAX = None


#: The fiber or greenlet that is the current "thread", and its identity
#: (its id()). C: core/thread/identity.cpp.
_current_thread_greenlet = core.thread_greenlet
get_ident = core.get_ident
#: Every fiber-thread's is its OS thread's (asked of the kernel once).
get_native_id = core.get_native_id


#: The cooperative _thread.lock (C, core/thread/lock.cpp): a held lock
#: parks the fiber-thread or greenlet; a real OS thread blocks on an OS
#: lock of its own.
LockType = core.LockType
allocate_lock = core.allocate_lock


#: The cooperative _thread.RLock (C): owned by a fiber-thread.
RLock = core.RLock


# ------------------------------------------------------------- threads --

#: _thread.start_new_thread, _set_sentinel and _count in C
#: (core/thread/start.cpp): a new thread is a fiber, started at once;
#: its end releases its sentinel lock (what Thread.join waits for), as
#: _thread does when a thread dies.
start_new_thread = core.start_new_thread
_set_sentinel = core._set_sentinel
_count = core._count
start_new = start_new_thread


def _os_thread_ident():
    return _originals["get_ident"]()


def os_thread_of(thread_id):
    """The pthread id behind a thread id: a fiber-thread's is its OS
    thread's."""
    if not _originals:
        return thread_id  # _thread is not patched (yet): ids are OS ids
    threading = sys.modules.get("threading")
    if threading is not None and thread_id in threading._active:
        return _os_thread_ident()
    if thread_id == get_ident():
        return _os_thread_ident()
    return thread_id


def make_interrupt_main(original):
    def interrupt_main(signum=2, /):
        """Simulate the arrival of a signal in the main thread: the handler
        runs at once (every fiber-thread is on the main OS thread) and
        what it raises ends the main thread's current wait."""
        import signal
        main = core.get_main_greenlet()
        if main is None or getcurrent() is main or not _hub_is_running():
            return original(signum)
        handler = signal.getsignal(signum)
        if handler in (signal.SIG_IGN, signal.SIG_DFL, None):
            return original(signum)  # python3: nothing happens
        try:
            handler(signum, None)
        except BaseException as e:
            core.throw(main, e)
    interrupt_main.__doc__ = original.__doc__
    interrupt_main.__module__ = "_thread"
    return interrupt_main


class _IdentName:
    """Stands in for the thread in ExceptHookArgs so that the original hook
    names the fiber-thread by its ident, not by the OS thread's."""

    __slots__ = ("name",)

    def __init__(self, ident):
        self.name = ident


def make_excepthook(original, args_type):
    def _excepthook(args, /):
        """Handle uncaught Thread.run() exception."""
        if type(args) is args_type and args.thread is None and args.exc_type is not SystemExit \
                and getattr(sys, "stderr", None) is not None:
            args = args_type((args.exc_type, args.exc_value, args.exc_traceback, _IdentName(get_ident())))
        return original(args)
    _excepthook.__doc__ = original.__doc__
    _excepthook.__module__ = "_thread"
    _excepthook.__qualname__ = "_excepthook"
    return _excepthook


# --------------------------------------------------------------- local --

#: _thread._local in C (core/thread/local.cpp): python3's type, with
#: one dict per thread as tfpython counts threads (fiber, main, greenlet).
local = core.local


# ------------------------------------------------------------- install --

excepthook = None  # set by install()


def install(thread_module):
    """The replacements for _thread's names."""
    global TIMEOUT_MAX
    TIMEOUT_MAX = thread_module.TIMEOUT_MAX
    for name in ("allocate_lock", "start_new_thread", "get_ident", "_set_sentinel", "_local", "RLock",
                 "LockType", "_count", "get_native_id"):
        _originals.setdefault(name, getattr(thread_module, name))
    core.set_thread_originals(_originals["start_new_thread"], _originals["_set_sentinel"])
    main = core.get_main_greenlet()
    if main is not None:
        from theframework import main_thread
        main_thread.adopt_in_core(main)
    global excepthook
    excepthook = make_excepthook(thread_module._excepthook, thread_module._ExceptHookArgs)
    return {
        "_excepthook": excepthook,
        "allocate_lock": allocate_lock,
        "allocate": allocate_lock,
        "LockType": LockType,
        "RLock": RLock,
        "start_new_thread": start_new_thread,
        "start_new": start_new_thread,
        "get_ident": get_ident,
        "_set_sentinel": _set_sentinel,
        "_local": local,
        "_count": _count,
        "get_native_id": get_native_id,
        "interrupt_main": make_interrupt_main(thread_module.interrupt_main),
    }
