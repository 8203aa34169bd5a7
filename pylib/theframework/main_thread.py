"""Who the main thread is: decided here, and nowhere else in Python.

Under tfpython the program's greenlet is the main thread; under plain
python3 patching late, until there is a program greenlet, it is the
greenlet running on the main OS thread. Two parties must agree on it:
``get_ident()``, which is C (core/thread/identity.cpp; told here through
``core.set_main_thread``), and ``threading``, whose ``_main_thread`` carries
the ident it is registered under in ``_active`` and a held lock that
``threading._shutdown()`` releases at exit.
"""
import sys

from theframework._core import core


def _thread_is_patched():
    import _thread
    return _thread.get_ident is core.get_ident


def adopt(greenlet):
    """``greenlet`` is the main thread from now on: the program is about to
    run in it (tfpython)."""
    adopt_in_core(greenlet)
    threading = sys.modules.get("threading")
    if threading is not None:
        adopt_in_threading(threading)


def adopt_after_fork(greenlet):
    """In a fork's child: the greenlet that forked is the main thread
    (threading's own _after_fork makes it threading's main thread)."""
    adopt_in_core(greenlet)


def adopt_in_core(greenlet):
    """get_ident() (C) says ``greenlet`` is the main thread (once _thread is
    patched: cooperative_thread holds its originals)."""
    thread = sys.modules.get("theframework.cooperative_thread")
    if thread is not None and thread._originals:
        core.set_main_thread(greenlet, thread._originals["get_ident"]())


def adopt_in_threading(threading):
    """threading's main thread takes the identity the patched get_ident()
    gives the main thread, whoever imported threading."""
    if not _thread_is_patched():
        return  # threads stay OS threads: python3's identities
    from theframework import cooperative_thread as ct
    main = core.get_main_greenlet()
    main_thread = threading._main_thread
    if main is not None:
        ident = id(main)
    elif main_thread._ident == ct._originals["get_ident"]():
        ident = ct.get_ident()
    else:
        return
    if main_thread._ident == ident:
        return
    with threading._active_limbo_lock:
        threading._active.pop(main_thread._ident, None)
        main_thread._ident = ident
        threading._active[ident] = main_thread
    # Its lock was tied to the greenlet that imported threading; the main
    # thread's stays held until threading._shutdown() at exit.
    lock = ct.allocate_lock()
    lock.acquire()
    _replace_tstate_lock(threading, main_thread, lock)


def restore_in_threading(threading):
    """After the originals are back: the main thread is python3's again (its
    identity, and a held lock of _thread's kind that _shutdown releases)."""
    import _thread
    main_thread = threading._main_thread
    ident = _thread.get_ident()
    with threading._active_limbo_lock:
        if threading._active.get(main_thread._ident) is main_thread and main_thread._ident != ident:
            del threading._active[main_thread._ident]
            main_thread._ident = ident
            threading._active[ident] = main_thread
    lock = main_thread._tstate_lock
    if lock is not None and not isinstance(lock, _thread.LockType):
        real = _thread.allocate_lock()
        if lock.locked():
            real.acquire()
        _replace_tstate_lock(threading, main_thread, real)


def _replace_tstate_lock(threading, thread, lock):
    # python3 keeps a non-daemon thread's lock in _shutdown_locks too (the
    # main thread's, released first thing in _shutdown): the old one left
    # there, held for ever, would hang the exit.
    with threading._shutdown_locks_lock:
        if thread._tstate_lock in threading._shutdown_locks:
            threading._shutdown_locks.discard(thread._tstate_lock)
            threading._shutdown_locks.add(lock)
    thread._tstate_lock = lock
