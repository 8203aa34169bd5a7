"""The sigwait family: the waiting greenlet lets the others run (the ticker
finishes while the main thread waits), results and errors as python3's."""
import os, threading, sys, time, signal
signum = signal.SIGUSR1
def kill_later():
    time.sleep(0.2)
    os.kill(os.getpid(), signum)
ticks = []
def ticker():
    for _ in range(5):
        ticks.append(1); time.sleep(0.01)
signal.pthread_sigmask(signal.SIG_BLOCK, [signum])
killer = threading.Thread(target=kill_later); killer.start()
threading.Thread(target=ticker).start()
print(repr(signal.sigwait([signum])), len(ticks))
print(signal.sigtimedwait([signum], 0.05))
os.kill(os.getpid(), signum)
i = signal.sigwaitinfo({signum}); print(i.si_signo == signum, i.si_pid == os.getpid())
signal.pthread_sigmask(signal.SIG_UNBLOCK, [signum])
try: signal.sigtimedwait([signum], -1)
except ValueError as e: print(e)
signal.pthread_sigmask(signal.SIG_BLOCK, [signum])
for bad in (float("nan"), 10 ** 300, 1e300, "x", None):
    try:
        signal.sigtimedwait([signum], bad)
    except Exception as e:
        print(repr(bad)[:10], type(e).__name__, e)
