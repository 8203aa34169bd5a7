"""signal under the hub (monkey/signal.py, monkey/_signal.py,
cooperative_signal.py): sigwait, sigwaitinfo, sigtimedwait and pause() wait
on the hub while other greenlets and threads run; a Python handler runs
promptly, what it raises in a thread reaches the main thread, pthread_kill
aimed at a thread reaches it; results as python3's (the sigwait family's
errors and the handlers' set-up are also compared with python3 case by case
in test_parity.py)."""
import json
import os
import signal
import subprocess
import threading
import time

import pytest

from conftest import MAX_TICK_GAP, PYTHON, TICKER, run_tfpython, start_blocked
from theframework.cooperative_signal import MainThreadHandler
from theframework.monkey import get_original


@pytest.fixture
def usr1_blocked(in_hub):
    """SIGUSR1 blocked (as the sigwait family needs), its handler a no-op
    meanwhile: a signal still pending at the end cannot end the run."""
    handler = signal.signal(signal.SIGUSR1, lambda signum, frame: None)
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
    yield signal.SIGUSR1
    signal.pthread_sigmask(signal.SIG_SETMASK, mask)
    signal.signal(signal.SIGUSR1, handler)


# A program blocks SIGUSR1 and SIGUSR2 and makes one call of the sigwait
# family while a real OS thread sends SIGUSR1 after 0.3 s (it comes even if
# the call blocks the hub's OS thread: the ticker then shows it, where a
# fiber-thread sender would hang). A fresh program, as users run it:
# signal is imported there before it is patched.
SIGWAIT = """
import os, signal, threading, time
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1, signal.SIGUSR2})
def send():
    sleep(0.3)
    os.kill(os.getpid(), signal.SIGUSR1)
"""


@pytest.mark.parametrize("call", [
    "signal.sigwait({signal.SIGUSR1})",
    "signal.sigwaitinfo([signal.SIGUSR1]).si_signo",
    "signal.sigtimedwait((signal.SIGUSR1,), 5).si_signo",
    "signal.sigtimedwait([signal.SIGUSR2], 0.3)",  # nothing comes: None at the timeout
])
def test_the_sigwait_family_waits_on_the_hub_with_python3s_results(call):
    r = run_tfpython(TICKER + SIGWAIT + f"""
import json
import _framework_core
from theframework.monkey import get_original
assert _framework_core.hub_is_running()
sleep = get_original("time", "sleep")
get_original("threading", "Thread")(target=send).start()
ticker_start()
t0 = time.monotonic()
result = {call}
print(json.dumps([repr(result), time.monotonic() - t0, ticker_stop()]))
""")
    assert r.returncode == 0, r.stderr
    result, waited, (ticks, gap) = json.loads(r.stdout.splitlines()[-1])
    plain = subprocess.run([PYTHON, "-c", SIGWAIT + f"""
sleep = time.sleep
threading.Thread(target=send).start()
print(repr({call}))
"""], capture_output=True, text=True, timeout=60)
    assert result == plain.stdout.strip() and result, plain.stderr
    assert waited >= 0.25
    assert ticks >= 10 and gap <= MAX_TICK_GAP, (ticks, gap)


def test_sigwaitinfo_tells_who_sent_the_signal_as_python3(usr1_blocked):
    os.kill(os.getpid(), usr1_blocked)
    info = signal.sigwaitinfo([usr1_blocked])
    assert type(info) is signal.struct_siginfo
    assert (info.si_signo, info.si_code, info.si_pid, info.si_uid) == (usr1_blocked, 0, os.getpid(), os.getuid())


def test_signal_pause_returns_after_a_handler_and_the_hub_runs_meanwhile():
    r = run_tfpython(TICKER + """
import json, os, signal, threading, time
got = []
signal.signal(signal.SIGUSR1, lambda signum, frame: got.append(signum))
threading.Thread(target=lambda: (time.sleep(0.3), os.kill(os.getpid(), signal.SIGUSR1))).start()
ticker_start()
result = signal.pause()
print(json.dumps([result, got, ticker_stop()]))
""")
    assert r.returncode == 0, r.stderr
    result, got, (ticks, gap) = json.loads(r.stdout.splitlines()[-1])
    assert result is None and got == [10]
    assert ticks >= 10 and gap <= MAX_TICK_GAP, (ticks, gap)


def test_server_thread_then_signal_pause_serves_requests():
    # The common program: start the server thread, then pause() in main.
    r = run_tfpython("""
import http.server, os, signal, socketserver, threading, urllib.request
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
threading.Thread(target=server.serve_forever, daemon=True).start()
def client():
    with urllib.request.urlopen("http://127.0.0.1:%d/" % server.server_port) as resp:
        print("status", resp.status)
    os.kill(os.getpid(), signal.SIGTERM)
signal.signal(signal.SIGTERM, lambda *a: print("stopping"))
threading.Thread(target=client).start()
signal.pause()
print("paused until the handler ran")
""", timeout=30)
    assert r.stdout == "status 200\nstopping\npaused until the handler ran\n", r.stderr


def test_python_signal_handler_runs_promptly_while_the_hub_waits(tmp_path):
    p = start_blocked(
        "import signal, sys, time\n"
        "def on_term(signum, frame):\n"
        "    print('handled', signum, flush=True)\n"
        "    sys.exit(9)\n"
        "signal.signal(signal.SIGTERM, on_term)\n"
        "print('ready', flush=True)\n"
        "time.sleep(30)\n", tmp_path)
    t0 = time.monotonic()
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=10)
    assert time.monotonic() - t0 < 5
    assert out == "handled %d\n" % signal.SIGTERM
    assert p.returncode == 9, err


def test_what_a_handler_raises_in_a_thread_ends_the_main_threads_wait(in_hub):
    # python3 runs the handler in the main thread, where it raises; here it
    # may run in the thread that was running, and what it raised is thrown
    # into the main thread's wait. The thread goes on either way.
    class Stop(Exception):
        pass

    def handler(signum, frame):
        raise Stop(signum)
    progress = []

    def sender():
        time.sleep(0.05)
        os.kill(os.getpid(), signal.SIGUSR1)
        progress.append("after kill")
        time.sleep(0.05)
        progress.append("went on")
    previous = signal.signal(signal.SIGUSR1, handler)
    t = threading.Thread(target=sender)
    try:
        t.start()
        t0 = time.monotonic()
        with pytest.raises(Stop) as err:
            threading.Event().wait(5)
        assert err.value.args == (signal.SIGUSR1,) and time.monotonic() - t0 < 2
        t.join(5)
        assert progress == ["after kill", "went on"]
    finally:
        signal.signal(signal.SIGUSR1, previous)


def test_pthread_kill_aimed_at_a_thread_reaches_it(in_hub):
    # A thread's ident is its fiber's; the signal goes to the OS thread
    # that runs it, and the handler runs in the main thread, as python3's.
    got = []
    previous = signal.signal(signal.SIGUSR1, lambda signum, frame: got.append(
        (signum, threading.current_thread() is threading.main_thread())))
    release = threading.Event()
    t = threading.Thread(target=release.wait)
    try:
        t.start()
        assert signal.pthread_kill(t.ident, 0) is None  # the thread is there
        signal.pthread_kill(t.ident, signal.SIGUSR1)
        for _ in range(100):
            if got:
                break
            time.sleep(0.01)
        assert got == [(signal.SIGUSR1, True)] and t.is_alive()
    finally:
        release.set()
        t.join(5)
        signal.signal(signal.SIGUSR1, previous)


def test_signal_and_getsignal_give_back_the_handler_passed(in_hub):
    def handler(signum, frame):
        pass
    previous = signal.signal(signal.SIGUSR1, handler)
    try:
        # Installed wrapped (its exception goes to the main thread) ...
        installed = get_original("_signal", "getsignal")(signal.SIGUSR1)
        assert type(installed) is MainThreadHandler and installed.handler is handler
        # ... but what python3 gives back is the handler itself.
        assert signal.getsignal(signal.SIGUSR1) is handler
        assert signal.signal(signal.SIGUSR1, signal.SIG_IGN) is handler
        assert signal.getsignal(signal.SIGUSR1) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGUSR1, previous)
