"""The interactive prompt with the hub running: threads started by a script
(-i) or at the prompt keep running while it waits for input, tf.spawn()
works there, ^C and exit() behave as python3's. Run on a real terminal (a
pty), with GNU readline, without it (-S: no site, no readline), and with
stdin a pipe."""
import os
import pty
import select
import signal
import subprocess
import time

import pytest

from conftest import TFPYTHON

TICKING = (
    "import threading, time\n"
    "ticks = []\n"
    "def tick():\n"
    "    while True:\n"
    "        ticks.append(time.monotonic())\n"
    "        time.sleep(0.01)\n"
    "threading.Thread(target=tick, daemon=True).start()\n"
)
REPORT = b"gaps = [b - a for a, b in zip(ticks[-60:], ticks[-59:])]; print('TICKS', len(ticks) > 60, max(gaps) < 0.05)\n"


class Terminal:
    def __init__(self, *args):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.execv(TFPYTHON, [TFPYTHON, "-q", *args])
        self.output = b""

    def read_prompt(self, timeout=10):
        end = time.monotonic() + timeout
        start = len(self.output)
        while time.monotonic() < end:
            ready, _, _ = select.select([self.fd], [], [], 0.05)
            if ready:
                try:
                    self.output += os.read(self.fd, 4096)
                except OSError:
                    break
            if self.output.endswith(b">>> "):
                break
        return self.output[start:].decode(errors="replace").replace("\r", "")

    def type(self, text):
        os.write(self.fd, text)
        return self.read_prompt()

    def status(self):
        _, status = os.waitpid(self.pid, 0)
        return os.waitstatus_to_exitcode(status)

    def close(self):
        try:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        os.close(self.fd)


@pytest.fixture
def script(tmp_path):
    path = tmp_path / "ticking.py"
    path.write_text(TICKING)
    return str(path)


@pytest.mark.parametrize("flags", [[], ["-S"]], ids=["readline", "no-readline"])
def test_threads_of_a_script_keep_running_at_the_prompt(script, flags):
    term = Terminal(*flags, "-i", script)
    try:
        term.read_prompt()
        time.sleep(1.0)  # the prompt waits for input meanwhile
        assert "TICKS True True" in term.type(REPORT)
        out = term.type(b"import theframework as tf; g = tf.spawn(lambda: 6 * 7); print('SPAWNED', g.get())\n")
        assert "SPAWNED 42" in out
        out = term.type(b"time.sleep(0.3); print('SLEPT')\n")
        assert "SLEPT" in out
        os.write(term.fd, b"raise SystemExit(3)\n")
        term.read_prompt(3)
        assert term.status() == 3
    finally:
        term.close()


def test_ctrl_c_at_the_prompt_is_pythons(script):
    term = Terminal("-i", script)
    try:
        term.read_prompt()
        os.write(term.fd, b"x = 1")
        time.sleep(0.2)
        out = term.type(b"\x03")
        assert "KeyboardInterrupt" in out
        assert "'ok'" in term.type(b"'ok'\n")
        time.sleep(1.0)
        assert "TICKS True True" in term.type(REPORT)
    finally:
        term.close()


def test_threads_started_at_the_prompt_keep_running():
    term = Terminal()
    try:
        term.read_prompt()
        for line in TICKING.splitlines(keepends=True):
            if line.startswith("threading.Thread"):
                term.type(b"\n")  # the end of the def
            term.type(line.encode())
        time.sleep(1.0)
        assert "TICKS True True" in term.type(REPORT)
    finally:
        term.close()


def test_stdin_a_pipe_with_i(script):
    p = subprocess.Popen([TFPYTHON, "-q", "-i", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    time.sleep(1.0)
    out, err = p.communicate(REPORT, timeout=30)
    assert b"TICKS True True" in out, err
