"""time: sleep lets other greenlets run while the hub waits."""
from theframework._core import core


def patches(time):
    from theframework.cooperative_thread import make_pthread_getcpuclockid
    return {"sleep": core.make_sleep(time.sleep),
            # thread ids are greenlet ids: map them to the OS thread's
            "pthread_getcpuclockid": make_pthread_getcpuclockid(time.pthread_getcpuclockid)}
