"""Shared helpers for the pytest suites, which run under tfpython itself."""
import os
import resource
import subprocess
import sys
import textwrap

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
