"""Shared helpers for the pytest suites, which run under tfpython itself."""
import os
import resource
import subprocess
import sys
import textwrap
import time

import pytest

TFPYTHON = os.environ.get("TFPYTHON") or sys.executable
PYTHON = "/usr/bin/python3.11"


def run_tfpython(code=None, *args, flags=(), script=None, env=None, timeout=60, input=None, **kw):
    """Run `tfpython *flags -c code *args` (or a script); a CompletedProcess."""
    cmd = [TFPYTHON, *flags]
    if code is not None:
        cmd += ["-c", textwrap.dedent(code)]
    elif script is not None:
        cmd.append(str(script))
    cmd += list(args)
    full_env = dict(os.environ)
    full_env.pop("TFPYTHON_NO_PATCH", None)
    if env:
        full_env.update(env)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=full_env,
                          input=input, **kw)


def start_blocked(code, tmp_path):
    """Start tfpython on a script of `code`, which prints "ready" before it
    blocks; returns the Popen once it has (and 0.2 s more went by)."""
    script = tmp_path / "blocked.py"
    script.write_text(code)
    p = subprocess.Popen([TFPYTHON, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert p.stdout.readline() == "ready\n"
    time.sleep(0.2)
    return p


EXTENSION_DIR = os.path.join(os.path.dirname(os.path.abspath(TFPYTHON)), "pylib")


def _sanitizer_runtimes():
    """The sanitizer runtimes the extension links (the asan preset's build):
    plain python3 can load it only with them preloaded."""
    import glob
    extension = glob.glob(os.path.join(EXTENSION_DIR, "_framework_core.*.so"))
    if not extension:
        return []
    out = subprocess.run(["ldd", extension[0]], capture_output=True, text=True).stdout
    return [line.split("=>")[1].split()[0] for line in out.splitlines()
            if "=>" in line and ("libasan" in line or "libubsan" in line)]


def plain_python_env(env=None):
    """os.environ for plain python3 with this build's theframework package
    and _framework_core extension importable (skips the test for an
    installed tfpython, which has no build tree beside it)."""
    if not os.path.isdir(EXTENSION_DIR):
        pytest.skip("no build tree beside %s (an installed tfpython)" % TFPYTHON)
    import theframework
    package_dir = os.path.dirname(os.path.dirname(os.path.abspath(theframework.__file__)))
    full_env = dict(os.environ, PYTHONPATH=os.pathsep.join([package_dir, EXTENSION_DIR]))
    preload = _sanitizer_runtimes()
    if preload:
        full_env["LD_PRELOAD"] = ":".join(preload)
    full_env.pop("TFPYTHON_NO_PATCH", None)
    full_env.update(env or {})
    return full_env


def run_python(code, *args, env=None, timeout=60, **kw):
    """Run plain `python3 -c code *args` with theframework importable."""
    return subprocess.run([PYTHON, "-c", textwrap.dedent(code), *args], capture_output=True, text=True,
                          timeout=timeout, env=plain_python_env(env), **kw)


@pytest.fixture
def in_hub():
    """Asserts the test body runs on the cooperative path: inside the hub."""
    import _framework_core
    assert _framework_core.hub_is_running(), "the test is not running inside the hub"
    return True


def open_fd_count():
    return len(os.listdir("/proc/self/fd"))


_SCALED_NOTES = pytest.StashKey[list]()


def pytest_configure(config):
    config.addinivalue_line("markers", "many_fds: needs many file descriptors; scaled to RLIMIT_NOFILE")
    config.stash[_SCALED_NOTES] = []


def pytest_terminal_summary(terminalreporter, config):
    notes = config.stash.get(_SCALED_NOTES, [])
    if notes:
        terminalreporter.write_sep("-", "scaled to the open-file limit")
        for note in notes:
            terminalreporter.write_line(note)


@pytest.fixture
def fd_budget(request):
    """fd_budget(wanted, fds_each, what) -> how many of `wanted` items,
    each holding `fds_each` descriptors, fit beside what is open now.

    The soft RLIMIT_NOFILE is raised as far as the hard limit allows (a
    container's default hard limit is 1024); a count below `wanted` is
    reported at the end of the run, so a smaller machine shows what it
    tested rather than failing on EMFILE."""
    spare = 64  # for the hub, pytest and the test's own sockets

    def budget(wanted, fds_each, what):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        open_now = open_fd_count()
        need = open_now + wanted * fds_each + spare
        if soft != resource.RLIM_INFINITY and soft < need:
            soft = need if hard == resource.RLIM_INFINITY else min(hard, need)
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
        room = wanted if soft == resource.RLIM_INFINITY else (soft - open_now - spare) // fds_each
        n = max(0, min(wanted, room))
        if n < wanted:
            request.config.stash[_SCALED_NOTES].append(
                "%s: %d %s of %d (hard RLIMIT_NOFILE %d)" % (request.node.nodeid, n, what, wanted, hard))
        return n

    return budget


# A "ticker": a greenlet that sleeps 10 ms in a loop. While a healthy hub
# waits, it ticks every ~10 ms; a wait that freezes the hub shows as one
# long gap. Source to put at the top of a program run under tfpython:
# ticker_start() before the wait, ticker_stop() -> (ticks, largest gap in s).
TICKER = textwrap.dedent("""
    import time as _ticker_time
    import theframework as _ticker_tf
    _ticker_gaps = []
    _ticker_on = [False]

    def _ticker_loop():
        last = _ticker_time.monotonic()
        while True:
            _ticker_time.sleep(0.01)
            now = _ticker_time.monotonic()
            if _ticker_on[0]:
                _ticker_gaps.append(now - last)
            last = now

    _ticker_tf.spawn(_ticker_loop)
    _ticker_time.sleep(0.02)

    def ticker_start():
        del _ticker_gaps[:]
        _ticker_on[0] = True

    def ticker_stop():
        _ticker_on[0] = False
        return len(_ticker_gaps), max(_ticker_gaps, default=0.0)
""")

#: The largest gap that still means "the hub was not frozen". Every wait
#: these tests make lasts 0.3 s or more, so a frozen hub shows a gap of
#: 0.3 s or more; a healthy one ticks every ~10 ms (10-13 ms measured on a
#: quiet machine), but a busy 2-CPU machine (the ASan build, a container
#: build beside the tests) has been seen to stretch one tick to 50-86 ms.
MAX_TICK_GAP = 0.15


class Ticker:
    """The same ticker inside the test process (tests that run in the hub)."""

    def __init__(self):
        import theframework as tf
        self.gaps = []
        self.on = False
        self.greenlet = tf.spawn(self._loop)

    def _loop(self):
        import time
        last = time.monotonic()
        while True:
            time.sleep(0.01)
            now = time.monotonic()
            if self.on:
                self.gaps.append(now - last)
            last = now

    def __enter__(self):
        import time
        time.sleep(0.02)
        self.gaps.clear()
        self.on = True
        return self

    def __exit__(self, *exc):
        self.on = False
        self.greenlet.kill()

    @property
    def largest_gap(self):
        return max(self.gaps, default=0.0)


@pytest.fixture
def ticker(in_hub):
    return Ticker()
