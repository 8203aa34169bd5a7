"""threading: built on the patched _thread (names it copied at import time
are re-pointed); the program's greenlet is the main thread (main_thread.py
decides it). A private copy
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


def restore(threading):
    """After the originals are back: the main thread is python3's again."""
    from theframework import main_thread
    from theframework._core import core
    sys.modules.pop("theframework._real_threading", None)
    core.set_dummy_threads(None, None)
    main_thread.restore_in_threading(threading)


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

    from theframework import main_thread
    main_thread.adopt_in_threading(threading)
    from theframework._core import core
    core.set_dummy_threads(threading._active, threading._DummyThread)  # a Greenlet's end forgets its own
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
