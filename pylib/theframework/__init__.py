"""theframework: greenlets on an io_uring hub, and patches that make the
blocking standard library cooperative.

Inside ``tfpython`` everything runs in a greenlet driven by the hub; the
user API below is what programs call directly.
"""
from theframework._core import core as _core
from theframework.hub import (
    DeadlockError,
    call_soon_threadsafe,
    get_hub_id,
    hub_is_running,
    run,
    sleep,
)
from theframework.greenlets import Greenlet, GreenletExit, joinall, kill, killall, spawn, spawn_later
from theframework.sync import Event
from theframework.timeout import Timeout, with_timeout
from theframework.pool import Group, Pool
from theframework.threadpool import run_in_thread

__all__ = [
    "DeadlockError", "Event", "Greenlet", "GreenletExit", "Group", "Pool", "Timeout",
    "call_soon_threadsafe", "get_hub_id", "hub_is_running", "joinall", "kill", "killall",
    "run", "run_in_thread", "sleep", "spawn", "spawn_later", "with_timeout",
]


def _start_under_launcher(patch):
    """Called once by tfpython after the interpreter is initialised."""
    import os
    os.register_at_fork(after_in_child=_core._after_fork_in_child)
    if patch:
        from theframework import monkey
        monkey.patch_all()
