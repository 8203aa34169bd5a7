"""theframework: greenlets and fiber-threads on a hub (io_uring, or epoll),
patches that make the blocking standard library cooperative (``monkey``),
and C stand-ins for hot pure-Python stdlib functions (``accel``).

Inside ``tfpython`` the program runs in a greenlet driven by the hub and
its threads are fiber-threads on the same hub; the user API below is what
programs call directly. Its parts are imported on first use, so that
starting tfpython costs no more than it must.
"""
from theframework._core import core as _core

_API = {
    "DeadlockError": "hub", "backend": "hub", "call_soon_threadsafe": "hub", "get_hub_id": "hub",
    "hub_is_running": "hub", "run": "hub", "sleep": "hub",
    "Greenlet": "greenlets", "GreenletExit": "greenlets", "joinall": "greenlets",
    "kill": "greenlets", "killall": "greenlets", "spawn": "greenlets", "spawn_later": "greenlets",
    "Event": "sync",
    "Timeout": "timeout", "with_timeout": "timeout",
    "Group": "pool", "Pool": "pool",
    "run_in_thread": "threadpool",
}

__all__ = sorted(_API)


def __getattr__(name):
    module = _API.get(name)
    if module is None:
        raise AttributeError("module 'theframework' has no attribute %r" % (name,))
    import importlib
    value = getattr(importlib.import_module("theframework." + module), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_API))


def _program_started():
    """tfpython: the program's greenlet is about to run the program."""
    from greenlet import getcurrent
    from theframework import main_thread
    main_thread.adopt(getcurrent())


def _program_finished():
    """tfpython: the program is done; as python3 does at exit, wait for the
    non-daemon threads (fiber-threads here, so inside the hub)."""
    import sys
    for name in ("threading", "theframework._real_threading"):
        threading = sys.modules.get(name)
        if threading is not None:
            threading._shutdown()


def _after_fork_in_child():
    from greenlet import getcurrent
    _core._after_fork_in_child()
    if _core.get_main_greenlet() is getcurrent():
        from theframework import main_thread
        main_thread.adopt_after_fork(getcurrent())


def _start_under_launcher(patch):
    """Called once by tfpython after the interpreter is initialised."""
    import os
    os.register_at_fork(after_in_child=_after_fork_in_child)
    if patch:
        from theframework import monkey
        try:
            options = monkey.options_from_environment(os.environ)
        except ValueError as e:
            raise SystemExit("TFPYTHON_NO_PATCH: %s" % e) from None
        monkey._patch_all(options, warn=False)  # first thing: nothing can be late
        if not monkey._off(os.environ, "TFPYTHON_ACCELERATE"):
            from theframework import accel
            accel.accelerate()
