"""time: sleep lets the other threads and greenlets run while the hub
waits; pthread_getcpuclockid takes a fiber-thread's ident."""
from theframework._core import core


def patches(time):
    original = time.pthread_getcpuclockid

    def pthread_getcpuclockid(thread_id, /):
        # thread ids are id(fiber) or id(greenlet), not pthread ids: map
        # them to the OS thread's
        from theframework.cooperative_thread import os_thread_of
        return original(os_thread_of(thread_id))
    pthread_getcpuclockid.__doc__ = original.__doc__
    return {"sleep": core.make_sleep(time.sleep), "pthread_getcpuclockid": pthread_getcpuclockid}
