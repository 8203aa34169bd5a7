"""Signals with fiber-threads: python3 runs Python signal handlers in the
main thread only. Here every thread (fiber) and greenlet runs on the main OS
thread, so a handler may be called in whichever one is running; what it
raises (KeyboardInterrupt above all) is handed to the program's greenlet,
the main thread, and the interrupted one goes on. signal() and set_wakeup_fd()
refuse to work from a fiber-thread, as python3 refuses other threads."""
from greenlet import getcurrent

from theframework._core import core

_MAIN_THREAD_ONLY = "%s only works in main thread of the main interpreter"


def _in_main_thread():
    main = core.get_main_greenlet()
    if main is None or not core.hub_is_running():
        return True  # start-up, the hub itself, a real thread (the original decides)
    return getcurrent() is main


class MainThreadHandler:
    """A Python signal handler, delivered as python3 would."""

    __slots__ = ("handler",)

    def __init__(self, handler):
        self.handler = handler

    def __call__(self, signum, frame):
        try:
            if _in_main_thread():
                return self.handler(signum, frame)
            try:
                self.handler(signum, frame)
            except BaseException as exc:
                # Without this frame: the traceback shows where main was, then
                # the handler, as python3's would.
                tb = exc.__traceback__
                core.throw(core.get_main_greenlet(), exc.with_traceback(tb.tb_next if tb else None))
        finally:
            core.signal_handled()  # signal.pause() returns once a handler ran

    def __repr__(self):
        return repr(self.handler)


MainThreadHandler.__call__ = core.hide_frames(MainThreadHandler.__call__, True)


def _unwrap(handler):
    return handler.handler if isinstance(handler, MainThreadHandler) else handler


def install(_signal):
    original_signal = _signal.signal
    original_getsignal = _signal.getsignal
    original_set_wakeup_fd = _signal.set_wakeup_fd
    plain = (_signal.SIG_DFL, _signal.SIG_IGN)

    # *args: bad calls get the originals' own errors.
    def signal(*args, **kwargs):
        if len(args) == 2 and not kwargs:
            if not _in_main_thread():
                raise ValueError(_MAIN_THREAD_ONLY % "signal")
            if callable(args[1]) and args[1] not in plain:
                args = (args[0], MainThreadHandler(args[1]))
        return _unwrap(original_signal(*args, **kwargs))

    def getsignal(*args, **kwargs):
        return _unwrap(original_getsignal(*args, **kwargs))

    def set_wakeup_fd(*args, **kwargs):
        if len(args) == 1 and not _in_main_thread():
            raise ValueError(_MAIN_THREAD_ONLY % "set_wakeup_fd")
        return original_set_wakeup_fd(*args, **kwargs)

    original_sigwait = _signal.sigwait
    original_sigwaitinfo = _signal.sigwaitinfo
    original_sigtimedwait = _signal.sigtimedwait
    siginfo = _signal.struct_siginfo

    # The sigwait family waits on a signalfd through the hub (which gives a
    # bad timeout python3's errors); a set that is not plain ints, or that
    # holds a signal not blocked here, goes to the originals.
    def _cooperative_wait(sigset, *timeout):
        if not core.hub_is_running():
            return NotImplemented
        try:
            signals = list(sigset)
        except TypeError:
            return NotImplemented
        if not all(isinstance(s, int) for s in signals):
            return NotImplemented
        return core.wait_signals(signals, *timeout)

    def sigwait(sigset):
        info = _cooperative_wait(sigset)
        if info is NotImplemented:
            return original_sigwait(sigset)
        return info[0]  # signal.sigwait() makes it a Signals

    def sigwaitinfo(sigset):
        info = _cooperative_wait(sigset)
        if info is NotImplemented:
            return original_sigwaitinfo(sigset)
        return siginfo(info)

    def sigtimedwait(sigset, timeout):
        info = _cooperative_wait(sigset, timeout)
        if info is NotImplemented:
            return original_sigtimedwait(sigset, timeout)
        return None if info is None else siginfo(info)

    original_pause = _signal.pause

    def pause():
        if not core.hub_is_running():
            return original_pause()
        core.pause()

    for fn, original in ((signal, original_signal), (getsignal, original_getsignal), (pause, original_pause),
                         (set_wakeup_fd, original_set_wakeup_fd), (sigwait, original_sigwait),
                         (sigwaitinfo, original_sigwaitinfo), (sigtimedwait, original_sigtimedwait)):
        fn.__doc__ = original.__doc__
    # The handlers already installed (SIGINT's default_int_handler) too.
    for signum in _signal.valid_signals():
        try:
            current = original_getsignal(signum)
        except (OSError, ValueError):
            continue
        if callable(current) and current not in plain and not isinstance(current, MainThreadHandler):
            original_signal(signum, MainThreadHandler(current))
    return {"signal": signal, "getsignal": getsignal, "set_wakeup_fd": set_wakeup_fd,
            "sigwait": sigwait, "sigwaitinfo": sigwaitinfo, "sigtimedwait": sigtimedwait, "pause": pause}
