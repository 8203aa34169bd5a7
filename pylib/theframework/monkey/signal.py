"""signal: re-points the names signal copied from the patched _signal
(`from _signal import *` copied them before _signal was patched)."""
from theframework import monkey


def patches(signal):
    _signal = monkey.get_patched("_signal")
    return {"pthread_kill": _signal.pthread_kill, "set_wakeup_fd": _signal.set_wakeup_fd,
            "pause": _signal.pause, "sigwaitinfo": _signal.sigwaitinfo, "sigtimedwait": _signal.sigtimedwait}
