"""_signal (which the signal module re-exports): handlers raise in the main
thread's greenlet; pthread_kill aimed at a fiber-thread reaches the OS
thread that runs it."""


def patches(_signal):
    from theframework import cooperative_signal
    original = _signal.pthread_kill

    def pthread_kill(thread_id, signalnum, /):
        from theframework.cooperative_thread import os_thread_of
        return original(os_thread_of(thread_id), signalnum)
    pthread_kill.__doc__ = original.__doc__
    replacements = {"pthread_kill": pthread_kill, **cooperative_signal.install(_signal)}
    for value in replacements.values():
        if callable(value) and getattr(value, "__module__", "").startswith("theframework"):
            # signal re-exports them, and pydoc (and test_signal) expect a
            # Python-level function there to say it is signal's.
            value.__module__ = "signal"
    return replacements


def restore(_signal):
    """Handlers installed while patched were wrapped: python3's getsignal()
    gives back what was passed to signal()."""
    from theframework.cooperative_signal import MainThreadHandler
    for signum in _signal.valid_signals():
        try:
            handler = _signal.getsignal(signum)
        except (OSError, ValueError):
            continue
        if isinstance(handler, MainThreadHandler):
            _signal.signal(signum, handler.handler)
