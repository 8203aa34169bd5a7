"""signal: re-points the names signal copied from _signal (its
`from _signal import *` ran before _signal was patched): every one that
_signal's patch replaced, so that none is missed when that patch grows."""
from theframework import monkey


def patches(signal):
    _signal = monkey.get_patched("_signal")
    return {name: getattr(_signal, name) for name in dir(_signal)
            if monkey.is_object_patched("_signal", name)
            and getattr(signal, name, None) is monkey.get_original("_signal", name)}
