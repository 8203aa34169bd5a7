"""_thread: a new thread is a fiber-thread, taking turns on the hub's own C
stack (see cooperative_thread.py); locks, identities and thread locals are
per thread as tfpython counts threads: a fiber-thread, the main thread (the
program's greenlet) or a greenlet spawned on the hub."""


def patches(_thread):
    from theframework import cooperative_thread
    return cooperative_thread.install(_thread)
