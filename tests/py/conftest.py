"""Shared helpers for the pytest suites, which run under tfpython itself."""
import os
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
