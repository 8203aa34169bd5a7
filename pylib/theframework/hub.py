"""The hub of the current thread, as the user sees it."""
from theframework._core import core as _core

DeadlockError = _core.DeadlockError
hub_is_running = _core.hub_is_running

#: backend() -> "io_uring" or "epoll": the engine under this thread's hub.
#: io_uring unless the system refuses it (a container's seccomp profile,
#: kernel.io_uring_disabled) or TFPYTHON_BACKEND=epoll asks for epoll.
backend = _core.backend

#: Cooperative inside the hub (in a greenlet or fiber-thread it drives),
#: time.sleep's own behaviour (errors included) everywhere else.
sleep = _core.sleep


def run(function, *args, **kwargs):
    """Run ``function(*args, **kwargs)`` in a greenlet driven by a hub on the
    current OS thread and return its result. Greenlets it spawns run while it
    waits. Each OS thread has its own hub."""
    if args or kwargs:
        return _core.run(lambda: function(*args, **kwargs))
    return _core.run(function)


def get_hub_id():
    """The id of the current thread's hub (None when it has none); other OS
    threads pass it to call_soon_threadsafe()."""
    return _core.current_hub_id()


_main_hub_id = None


def call_soon_threadsafe(function, *args, hub_id=None):
    """Run ``function(*args)`` in a hub's thread soon; callable from any OS
    thread. Without ``hub_id``: the calling thread's hub, else the main
    thread's."""
    if hub_id is None:
        hub_id = _core.current_hub_id() or 1
    _core.call_soon_threadsafe(hub_id, function, *args)
