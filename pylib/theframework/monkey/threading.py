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
    for (mod, name), value in _registry.items():
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
    """The main thread is the program's greenlet, whoever imported threading."""
    from theframework._core import core
    main = core.get_main_greenlet()
    main_thread = threading._main_thread
    if main is None or main_thread._ident == id(main):
        return
    with threading._active_limbo_lock:
        threading._active.pop(main_thread._ident, None)
        main_thread._ident = id(main)
        threading._active[main_thread._ident] = main_thread
    # Its lock was tied to the greenlet that imported threading; the main
    # thread's stays held until threading._shutdown() at exit.
    from theframework import cooperative_thread as ct
    lock = ct.allocate_lock()
    lock.acquire()
    main_thread._tstate_lock = lock


def _maintain_shutdown_locks():
    """threading prunes released locks from _shutdown_locks at every thread
    start and stop: O(n) each, O(n^2) for n threads. A greenlet-thread's lock
    leaves the set when the thread ends (cooperative_thread), so there is
    nothing to prune."""


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


def patches(threading):
    from theframework import cooperative_thread as ct
    from theframework import cooperative_threading
    from theframework._core import core
    monkey.get_patched("_thread")
    monkey.get_patched("_signal")  # handlers' exceptions go to the main thread
    real = _real_threading()
    from theframework.monkey import _registry
    _registry.remember("threading", "Thread", real.Thread)
    _registry.remember("threading", "Timer", real.Timer)
    sys.modules["theframework._real_threading"] = real

    adopt_main_thread(threading)
    return {
        "_start_new_thread": ct.start_new_thread,
        "_allocate_lock": ct.allocate_lock,
        "_set_sentinel": ct._set_sentinel,
        "get_ident": ct.get_ident,
        "get_native_id": core.get_native_id,
        "Lock": ct.allocate_lock,
        "_CRLock": ct.RLock,
        "local": ct.local,
        "_maintain_shutdown_locks": _maintain_shutdown_locks,
        "Event": cooperative_threading.Event,
        # Every Thread made is added to it: WeakSet.add in C.
        "_dangling.add": core.weakset_adder(threading._dangling),
        "_make_invoke_excepthook": make_invoke_excepthook(threading),
        "excepthook": ct.excepthook,
        "__excepthook__": ct.excepthook,
    }
