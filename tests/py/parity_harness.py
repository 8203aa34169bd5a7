"""The parity harness: the case type, the normalisations of deliberate
differences, the set-ups and how a case runs under an interpreter (on pipes
or on a terminal) and is rendered for comparison. The cases are in
parity_table_command_line.py and parity_table_runtime.py; the test is
test_parity.py."""
from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import shutil
import struct
import subprocess
import termios
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path


REFERENCE = "/usr/bin/python3.11"
TFPYTHON = os.environ.get("TFPYTHON", "/work/main/build/default/tfpython")
CASES_DIR = Path(__file__).resolve().parent / "parity_cases"
TIMEOUT = 30


def _spellings(*exes):
    """The ways an interpreter's path may be printed, longest first."""
    names = set()
    for exe in exes:
        names.add(exe)
        names.add(os.path.abspath(exe))
        names.add(os.path.realpath(exe))
    return sorted(names, key=len, reverse=True)


def _strip_extension_modules(match: re.Match) -> bytes:
    tfpython_own = {b"greenlet._greenlet", b"_framework_core"}
    names = [n for n in match.group(1).split(b", ") if n not in tfpython_own]
    if not names:
        return b"\n"
    return b"\n\nExtension modules: %s (total: %d)\n" % (b", ".join(names), len(names))


# Every difference between tfpython and python3.11 that is deliberate (or is
# noise between two runs of one interpreter), with why it is allowed and how
# the comparison removes it. Anything not listed here is a parity bug.
DELIBERATE_DIFFERENCES = {
    "interpreter-path": {
        "reason": "tfpython is another binary: sys.executable, sys._base_executable, "
                  "sys.orig_argv[0], and the program name (argv[0] as invoked) in the "
                  "usage/-h text and in \"can't open file\" messages name the binary "
                  "that was run.",
        "replace": [(re.escape(p), "<PYTHON>") for p in _spellings(TFPYTHON, REFERENCE)],
    },
    "object-addresses": {
        "reason": "reprs such as <function f at 0x7f...> differ between any two runs "
                  "(ASLR), even of the same interpreter.",
        "replace": [(r"\b0x[0-9a-f]{6,16}\b", "0xADDR")],
    },
    "faulthandler-extension-modules": {
        "reason": "on a fatal error faulthandler lists the loaded extension modules that "
                  "are not in sys.stdlib_module_names. tfpython must load greenlet._greenlet "
                  "and its builtin _framework_core to run the program in a greenlet, so "
                  "its list has them too: they are struck from the list (and a list left "
                  "empty is dropped, with its blank line, as python3.11 prints none).",
        "replace": [(r"\n\nExtension modules: (.*) \(total: \d+\)\n", _strip_extension_modules)],
    },
    "verbose-import-trace": {
        "reason": "-v (and PYTHONVERBOSE) traces every import on stderr. tfpython "
                  "imports greenlet and theframework (and what they import) before "
                  "the program runs, and python3.11 does not, so the trace lines "
                  "necessarily differ; only the exit status and stdout are compared.",
        "ignore_stderr": True,
    },
}


_REPLACEMENTS = [(re.compile(pattern.encode()), new if callable(new) else new.encode())
                 for entry in DELIBERATE_DIFFERENCES.values()
                 for pattern, new in entry.get("replace", [])]


def normalise(data: bytes) -> bytes:
    for pattern, new in _REPLACEMENTS:
        data = pattern.sub(new, data)
    return data


# ---------------------------------------------------------------------------
# The table.


@dataclass(frozen=True)
class Case:
    id: str
    args: tuple
    stdin: bytes = b""
    env: dict = field(default_factory=dict)  # overrides; None unsets a variable
    merge: bool = False  # stderr into the stdout pipe: checks interleaving
    setup: str | None = None  # a key of SETUPS, run in the work directory
    allow: str | None = None  # a key of DELIBERATE_DIFFERENCES that relaxes the comparison
    closed: tuple = ()  # standard fds closed in the child before exec (0, 1, 2)
    # On a terminal: stdin, stdout and stderr are one pty (the controlling
    # terminal). Each step is (expect, send): wait until the output since the
    # previous step's typing ends with `expect` (bytes), or for `expect`
    # seconds (float), then type `send`.
    tty: tuple | None = None


def C(id, *args, stdin="", **kw):
    if isinstance(stdin, str):
        stdin = stdin.encode()
    return Case(id, tuple(args), stdin=stdin, **kw)


PROMPT = b">>> "


def T(id, *args, steps=(), **kw):
    """A case run on a terminal; a str step is a line typed at the next ">>> "."""
    tty = tuple((PROMPT, step.encode()) if isinstance(step, str) else step for step in steps)
    return Case(id, tuple(args), tty=tty, **kw)


NO_UNBUFFERED = {"PYTHONUNBUFFERED": None}

SHOW_FLAGS = "import sys; print(sys.flags)"
SHOW_PATH = "import sys; print(sys.path)"
SHOW_ENCODINGS = ("import sys, locale; "
                  "print(sys.stdin.encoding, sys.stdin.errors, sys.stdout.encoding, sys.stdout.errors, "
                  "sys.stderr.encoding, sys.stderr.errors, sys.getfilesystemencoding(), "
                  "sys.getfilesystemencodeerrors(), locale.getpreferredencoding(False), "
                  "sys.flags.utf8_mode)")
OUT_ERR_OUT = "import sys; print('out 1'); print('err 1', file=sys.stderr); print('out 2')"
STDIN_SHOW = """\
import sys
print("argv", sys.argv)
print("path0", repr(sys.path[0]))
print("name", __name__, "file", __file__, "loader", __loader__)
print("spec", __spec__, "package", __package__)
"""

# ---------------------------------------------------------------------------
# Set-ups, run in the work directory before each interpreter's run.


def _make_zipapps(work: Path):
    def write(name, prefix=b"", with_main=True):
        path = work / name
        with open(path, "wb") as raw:
            raw.write(prefix)
            with zipfile.ZipFile(raw, "w") as zf:
                if with_main:
                    zf.write(work / "appdir" / "__main__.py", "__main__.py")
                zf.write(work / "appdir" / "helper.py", "helper.py")

    write("app.pyz")
    write("shebang.pyz", prefix=b"#!/usr/bin/env python3\n")
    write("nomain.zip", with_main=False)


def _make_symlink(work: Path):
    (work / "linked").mkdir()
    (work / "linked" / "show_link.py").symlink_to(work / "scripts" / "show.py")


SETUPS = {"zipapp": _make_zipapps, "symlink": _make_symlink}


# ---------------------------------------------------------------------------
# The harness.


def _expand(value, work: Path):
    if isinstance(value, str):
        return value.replace("{work}", str(work))
    return value


def _environment(case: Case, work: Path) -> dict:
    env = dict(os.environ)
    env.pop("TFPYTHON_NO_PATCH", None)  # tfpython runs as users get it: patched
    for name, value in case.env.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = _expand(value, work)
    return env


def _closer(fds):
    def close():
        for fd in fds:
            os.close(fd)
    return close


def _run_pipes(argv, work, env, case: Case):
    stdin_closed = 0 in case.closed
    try:
        proc = subprocess.run(
            argv, cwd=work, env=env,
            input=None if stdin_closed else case.stdin,
            stdin=subprocess.DEVNULL if stdin_closed else None,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT if case.merge else subprocess.PIPE,
            preexec_fn=_closer(case.closed) if case.closed else None,
            timeout=TIMEOUT)
        return proc.returncode, proc.stdout, proc.stderr or b""
    except subprocess.TimeoutExpired as exc:
        return f"timed out after {TIMEOUT}s", exc.stdout or b"", exc.stderr or b""


def _run_tty(argv, work, env, steps):
    """Runs argv on a new pty, its controlling terminal; returns the transcript."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))

    def take_terminal():  # after setsid (start_new_session): the pty becomes the ctty
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    proc = subprocess.Popen(argv, cwd=work, env=env, stdin=slave, stdout=slave, stderr=slave,
                            start_new_session=True, preexec_fn=take_terminal)
    os.close(slave)
    out = bytearray()
    deadline = time.monotonic() + TIMEOUT

    def read(until, seconds):
        """Reads until until() holds; False on time-out, None at end of output."""
        end = min(deadline, time.monotonic() + seconds)
        while not until():
            ready, _, _ = select.select([master], [], [], max(0.0, end - time.monotonic()))
            if not ready:
                return False
            try:
                data = os.read(master, 4096)
            except OSError:  # EIO: every fd of the terminal's slave side is closed
                return None
            if not data:
                return None
            out.extend(data)
        return True

    try:
        for expect, send in steps:
            mark = len(out)
            if isinstance(expect, float):
                read(lambda: False, expect)
            elif not read(lambda: out[mark:].endswith(expect), 10):
                out.extend(b"\n<harness: no %r before typing %r>\n" % (expect, send))
                break
            os.write(master, send)
        read(lambda: False, TIMEOUT)
        try:
            returncode = proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            returncode = f"timed out after {TIMEOUT}s"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    return returncode, bytes(out), b""


def run_case(exe: str, case: Case, tmp_path: Path):
    work = tmp_path / "work"
    if work.exists():
        shutil.rmtree(work)
    shutil.copytree(CASES_DIR, work, symlinks=True,
                    ignore=shutil.ignore_patterns("__pycache__"))
    if case.setup:
        SETUPS[case.setup](work)
    argv = [exe] + [_expand(a, work) for a in case.args]
    env = _environment(case, work)
    if case.tty is not None:
        returncode, stdout, stderr = _run_tty(argv, work, env, case.tty)
    else:
        returncode, stdout, stderr = _run_pipes(argv, work, env, case)
    return returncode, normalise(stdout), normalise(stderr)


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _lines(data: bytes, tty: bool) -> list[str]:
    text = data.decode("utf-8", "backslashreplace")
    if tty:  # a terminal's \r, escape sequences and echoed ^C made visible
        text = _CONTROL.sub(lambda m: "\\x%02x" % ord(m.group()), text)
    return text.split("\n") if text else []


def _render(returncode, stdout: bytes, stderr: bytes, compare_stderr: bool, tty=False) -> list[str]:
    lines = [f"returncode: {returncode}", "--- terminal ---" if tty else "--- stdout ---"]
    lines += _lines(stdout, tty)
    if compare_stderr and not tty:
        lines.append("--- stderr ---")
        lines += _lines(stderr, tty)
    return lines


def _command_line(case: Case) -> str:
    import shlex
    parts = ["python3"] + [a if isinstance(a, str) else repr(a) for a in case.args]
    text = " ".join(shlex.quote(p) for p in parts)
    extras = []
    if case.env:
        extras.append(f"env {case.env}")
    if case.stdin:
        extras.append(f"stdin {case.stdin!r}")
    if case.merge:
        extras.append("stderr merged into stdout")
    if case.closed:
        extras.append(f"fds {case.closed} closed")
    if case.tty is not None:
        extras.append(f"a terminal, typing {[send for _, send in case.tty]}")
    return text + ("".join(f"\n  with {e}" for e in extras))

