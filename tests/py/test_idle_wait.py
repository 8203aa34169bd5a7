"""A wait that nothing will end idles as under python3 (no DeadlockError):
still waiting after 2 s with almost no CPU, and SIGINT then gives python3's
status; TFPYTHON_REPORT_DEADLOCK=1 reports it instead (test_deadlock.py)."""
import os
import signal
import subprocess
import time

import pytest

from conftest import PYTHON, TFPYTHON


def _cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _settled_cpu_seconds(pid, timeout=15):
    """The child's CPU time once start-up is over: two reads 0.25 s apart
    that agree (a sanitizer build on a busy machine takes more than the
    0.5 s a plain one needs to reach its wait)."""
    time.sleep(0.5)
    last = _cpu_seconds(pid)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(0.25)
        now = _cpu_seconds(pid)
        if now == last:
            return now
        last = now
    return last


@pytest.mark.parametrize("program", [
    "import threading\nthreading.Event().wait()",
    "import threading\nthreading.Lock().acquire(); threading.Lock().acquire()\nl = threading.Lock(); l.acquire(); l.acquire()",
    "import queue\nqueue.Queue().get()",
    "import theframework as tf\ntf.Event().wait()",
])
def test_an_unending_wait_idles_until_sigint(program):
    child = subprocess.Popen([TFPYTHON, "-c", program], stderr=subprocess.PIPE, text=True,
                             preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        before = _settled_cpu_seconds(child.pid)
        time.sleep(2)
        assert child.poll() is None, child.stderr.read()
        used = _cpu_seconds(child.pid) - before
        assert used < 0.005 + 0.01, used  # clock ticks are 10 ms: at most one
        child.send_signal(signal.SIGINT)
        err = child.communicate(timeout=20)[1]
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == -signal.SIGINT  # the shell's 130, as python3
    assert err.startswith("Traceback (most recent call last):\n") and err.endswith("KeyboardInterrupt\n"), err


def test_python3_does_the_same():
    child = subprocess.Popen([PYTHON, "-c", "import threading\nthreading.Event().wait()"], stderr=subprocess.PIPE,
                             preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    time.sleep(0.5)
    child.send_signal(signal.SIGINT)
    child.communicate(timeout=20)
    assert child.returncode == -signal.SIGINT
