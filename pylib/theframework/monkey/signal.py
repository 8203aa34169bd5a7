"""_signal (which the signal module re-exports): handlers raise in the main
thread's greenlet; pthread_kill aimed at a greenlet-thread reaches the OS
thread that runs it."""


def patches(_signal):
    from theframework import cooperative_signal, cooperative_thread
    return {"pthread_kill": cooperative_thread.make_pthread_kill(_signal.pthread_kill),
            **cooperative_signal.install(_signal)}
