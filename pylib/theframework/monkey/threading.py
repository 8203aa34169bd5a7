"""threading: built on the patched _thread (names it copied at import time
are re-pointed); the program's greenlet is the main thread. A private copy
of the unpatched module keeps real OS threads reachable:
get_original("threading", "Thread") starts a real thread."""
import sys

from theframework import monkey


def _real_threading():
    """A second, private threading module over the original _thread."""
    import importlib.util
    import _thread
    from theframework.monkey import _registry
    spec = importlib.util.find_spec("threading")
    module = importlib.util.module_from_spec(spec)
    patched = {}
    for (mod, name), (value, _held) in _registry.items():
        if mod == "_thread" and value is not _registry.MISSING:
            patched[name] = getattr(_thread, name)
            setattr(_thread, name, value)
    try:
        spec.loader.exec_module(module)
    finally:
        for name, value in patched.items():
            setattr(_thread, name, value)
    return module


def adopt_main_thread(threading):
    """The main thread is the program's greenlet, whoever imported threading.
    Before there is one (plain python3 patching after importing threading),
    it is the greenlet running on the main OS thread, as the patched
    get_ident() says there: threading._shutdown() at exit must know it."""
    from theframework import cooperative_thread as ct
    from theframework._core import core
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


def _replace_tstate_lock(threading, thread, lock):
    # python3 keeps a non-daemon thread's lock in _shutdown_locks too (the
    # main thread's, released first thing in _shutdown): the old one left
    # there, held for ever, would hang the exit.
    with threading._shutdown_locks_lock:
        if thread._tstate_lock in threading._shutdown_locks:
            threading._shutdown_locks.discard(thread._tstate_lock)
            threading._shutdown_locks.add(lock)
    thread._tstate_lock = lock


def restore(threading):
    """After the originals are back: the main thread is python3's again (its
    identity, and a held lock of _thread's kind that _shutdown releases)."""
    import _thread
    sys.modules.pop("theframework._real_threading", None)
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


def patches(threading):
    from theframework import cooperative_thread as ct
    from theframework import cooperative_threading
    monkey.get_patched("_thread")
    monkey.get_patched("_signal")  # handlers' exceptions go to the main thread
    real = _real_threading()
    from theframework.real_thread_join import make_set_tstate_lock
    real.Thread._set_tstate_lock = make_set_tstate_lock(real)  # join() waits on the hub
    from theframework.monkey import _registry
    # What get_original() gives for them; restore() leaves threading's own.
    _registry.remember_alternate("threading", "Thread", real.Thread)
    _registry.remember_alternate("threading", "Timer", real.Timer)
    sys.modules["theframework._real_threading"] = real

    adopt_main_thread(threading)
    return {
        "_start_new_thread": ct.start_new_thread,
        "_allocate_lock": ct.allocate_lock,
        "_set_sentinel": ct._set_sentinel,
        "get_ident": ct.get_ident,
        "get_native_id": ct.get_native_id,
        "Lock": ct.allocate_lock,
        "_CRLock": ct.RLock,
        "local": ct.local,
        "_maintain_shutdown_locks": cooperative_threading.maintain_shutdown_locks,
        "Event": cooperative_threading.Event,
        "_dangling.add": cooperative_threading.dangling_add(threading),
        "_make_invoke_excepthook": cooperative_threading.make_invoke_excepthook(threading),
        "excepthook": ct.excepthook,
        "__excepthook__": ct.excepthook,
    }
