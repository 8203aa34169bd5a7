"""time: sleep lets other greenlets run while the hub waits."""
from theframework._core import core


def patches(time):
    return {"sleep": core.make_sleep(time.sleep)}
