"""signal: pthread_kill aimed at a "thread" that is a greenlet reaches the
OS thread that runs it."""


def patches(signal):
    from theframework import cooperative_thread as ct
    return {"pthread_kill": ct.make_pthread_kill(signal.pthread_kill)}
