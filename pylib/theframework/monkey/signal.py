"""signal: re-points the names signal copied from the patched _signal."""
from theframework import monkey


def patches(signal):
    _signal = monkey.get_patched("_signal")
    return {"pthread_kill": _signal.pthread_kill, "set_wakeup_fd": _signal.set_wakeup_fd,
            "pause": _signal.pause}
