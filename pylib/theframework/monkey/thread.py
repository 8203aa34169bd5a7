"""_thread: new "threads" are greenlets; locks, identities and thread
locals are per greenlet."""


def patches(_thread):
    from theframework import cooperative_thread
    return cooperative_thread.install(_thread)
