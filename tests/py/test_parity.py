"""Parity of tfpython's command line with Debian's python3.11.

Every row of CASES runs once under tfpython and once under the reference
interpreter, with the same arguments, environment, stdin and working
directory; the exit status, stdout and stderr must be identical after the
normalisations listed in DELIBERATE_DIFFERENCES.

Run it as

    TFPYTHON=/work/main/build/default/tfpython \\
        /work/main/build/default/tfpython -m pytest -q -p no:cacheprovider tests/py/test_parity.py

TFPYTHON=/usr/bin/python3.11 checks the harness itself: every case must pass.

Each run gets a fresh copy of tests/py/parity_cases/ at the same path
(<tmp>/work), used as the working directory, so paths printed by the
programs are the same for both interpreters and nothing one run writes can
affect the other. Cases name files there as scripts/<name>.py, pkg.<mod>,
appdir, ...; "{work}" in an argument or environment value is that directory.

A case normally runs with stdin, stdout and stderr on pipes (stdin gets the
case's input, then EOF). Rows made with T() run on a pseudo-terminal that is
the program's controlling terminal, typing each step's input once the
expected output (a prompt) has appeared: the interactive prompt, readline,
^C and ^\\ are compared as a user would see them. `closed` runs a case with
some of fds 0-2 closed.

The harness is parity_harness.py; the cases are parity_table_command_line.py
and parity_table_runtime.py.
"""
import difflib
import os
from pathlib import Path

import pytest

from parity_harness import DELIBERATE_DIFFERENCES, REFERENCE, TFPYTHON, Case, _command_line, _render, run_case
from parity_table_command_line import COMMAND_LINE_CASES
from parity_table_runtime import RUNTIME_CASES

CASES = COMMAND_LINE_CASES + RUNTIME_CASES

# Known differences: each still runs and is reported (xfail, strict: a case
# that starts to pass fails until it is taken off this list). Kept short;
# every entry says why it differs.
KNOWN_DIFFERENCES = {
    # The cooperative model by design.
    "c-select-module-api": "select.select and select.poll are Python stand-ins, not builtins",
    "c-socket-api": "the patched socket's methods and resolver functions are a C type's and Python "
                    "stand-ins, so their reprs differ",
    "c-thread-idents": "threads are fiber-threads on one OS thread: get_native_id() is the same for all",
    "c-thread-preemption-busy-wait": "fiber-threads are not preempted: a busy-waiting main never lets "
                                     "a thread run (python3 switches threads every 5 ms)",
    "c-faulthandler-all-threads": "faulthandler walks OS threads; fiber-threads are not listed",
    "c-current-frames": "sys._current_frames() is keyed by OS thread, get_ident() by fiber-thread",
    "c-sqlite-check-same-thread": "C code that keys on PyThread_get_thread_ident() (sqlite3's "
                                  "check_same_thread) sees one thread: the OS thread all fiber-threads share",
    "c-async-exc-fiber-thread": "PyThreadState_SetAsyncExc finds thread states by OS thread id; a fiber-thread "
                                "has its own dict, id, tracing and hooks swapped into its OS thread's state, "
                                "not a thread state of its own, so it is not found (0)",
    "c-signal-handler-runs-in-main-thread": "a handler runs in whichever fiber-thread is running; what it "
                                            "raises is delivered to the main greenlet",
    "c-interrupt-main-during-sleep-no-wakeup": "_thread.interrupt_main() from a fiber-thread interrupts "
                                               "main at once; python3 lets main's sleep run to its end",
    # Not done yet.
    "c-set-wakeup-fd-introspection": "signal.set_wakeup_fd is a Python stand-in (no __text_signature__)",
}


def _param(case):
    reason = KNOWN_DIFFERENCES.get(case.id)
    marks = [pytest.mark.xfail(reason=reason, strict=True)] if reason else []
    return pytest.param(case, id=case.id, marks=marks)


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_parity(case: Case, tmp_path: Path):
    compare_stderr = not (case.allow and DELIBERATE_DIFFERENCES[case.allow].get("ignore_stderr"))
    tty = case.tty is not None
    expected = _render(*run_case(REFERENCE, case, tmp_path), compare_stderr, tty)
    actual = _render(*run_case(TFPYTHON, case, tmp_path), compare_stderr, tty)
    if actual != expected:
        diff = "\n".join(difflib.unified_diff(expected, actual, "python3.11", "tfpython", lineterm=""))
        pytest.fail(f"tfpython differs from python3.11 for\n  {_command_line(case)}\n{diff}",
                    pytrace=False)


def test_known_differences_name_real_cases():
    assert set(KNOWN_DIFFERENCES) <= {c.id for c in CASES}


def test_case_ids_are_unique():
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)


def test_reference_is_debian_python():
    # The pyenv python3 first on PATH is a different build; the reference must
    # be Debian's, which tfpython's libpython comes from.
    assert os.path.exists(REFERENCE)
    assert Path(TFPYTHON).exists(), f"TFPYTHON={TFPYTHON} does not exist; build it first"
