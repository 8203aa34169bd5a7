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
"""
from __future__ import annotations

import difflib
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

import pytest

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

CASES = [
    # --- -c ---------------------------------------------------------------
    C("c-print", "-c", "print('hello')"),
    C("c-argv", "-c", "import sys; print(sys.argv)", "a", "-b", "--c", "-"),
    C("c-path0", "-c", "import sys; print(repr(sys.path[0]))"),
    C("c-flags", "-c", SHOW_FLAGS),
    C("c-main-attrs", "-c",
      "print(__name__, '__file__' in globals(), __spec__, __loader__, __package__, __doc__)"),
    C("c-globals", "-c", "print(sorted(globals()))"),
    C("c-executable", "-c", "import sys; print(sys.executable); print(sys._base_executable)"),
    C("c-orig-argv", "-X", "dev", "-W", "ignore", "-c", "import sys; print(sys.orig_argv)", "a", "b"),
    C("c-combined-flags", "-Bqc", "import sys; print(sys.argv, sys.flags.quiet)", "x"),
    C("c-multiline", "-c", "def f(x):\n    return x * 2\n\nprint(f(21))"),
    C("c-cookie-ignored", "-c", "# -*- coding: latin-1 -*-\nprint('é', len('é'))"),
    C("c-nonascii-argv", "-c", "import sys; print(sys.argv)", "héllo", "日本"),
    C("c-undecodable-argv", "-c", "import sys; print(ascii(sys.argv))", b"\xff\xfe"),
    # SystemExit
    C("c-exit-none", "-c", "import sys; sys.exit()"),
    C("c-exit-none-explicit", "-c", "raise SystemExit(None)"),
    C("c-exit-int", "-c", "import sys; print('exiting'); sys.exit(3)"),
    C("c-exit-str", "-c", "import sys; sys.exit('fatal: bye')"),
    C("c-exit-object", "-c", "import sys; sys.exit([1, 'two'])"),
    C("c-exit-float", "-c", "import sys; sys.exit(2.5)"),
    C("c-exit-true", "-c", "import sys; sys.exit(True)"),
    C("c-exit-subclass", "-c", "class Quit(SystemExit): pass\nraise Quit(6)"),
    C("c-exit-256", "-c", "import sys; sys.exit(256)"),
    C("c-exit-257", "-c", "import sys; sys.exit(257)"),
    C("c-exit-1000", "-c", "import sys; sys.exit(1000)"),
    C("c-exit-minus-1", "-c", "import sys; sys.exit(-1)"),
    C("c-exit-minus-2", "-c", "import sys; sys.exit(-2)"),
    C("c-exit-2pow31", "-c", "import sys; sys.exit(2**31)"),
    C("c-exit-2pow63", "-c", "import sys; sys.exit(2**63)"),
    C("c-builtin-exit", "-c", "exit(3)"),
    C("c-builtin-quit", "-c", "quit(4)"),
    C("c-builtin-exit-no-site", "-S", "-c", "exit(3)"),
    C("c-os-exit", "-c", "import os; print('before'); os._exit(7)"),
    C("c-os-exit-buffered-lost", "-c", "import os; print('lost in the buffer'); os._exit(7)",
      env=NO_UNBUFFERED),
    C("c-exit-in-finally", "-c",
      "import sys\ntry:\n    sys.exit(2)\nfinally:\n    print('finally ran')"),
    # errors
    C("c-exception", "-c",
      "def inner():\n    return 1 / 0\n\ndef outer():\n    inner()\n\nouter()"),
    C("c-exception-chain", "-c",
      "try:\n    {}['missing']\nexcept KeyError:\n    raise ValueError('while handling')"),
    C("c-exception-nonascii", "-c", "raise ValueError('ünïcödé ☃')"),
    C("c-exception-group", "-c", "raise ExceptionGroup('eg', [ValueError(1), TypeError(2)])"),
    C("c-syntax-error", "-c", "print('never')\n1 +"),
    C("c-indentation-error", "-c", "if True:\nprint('x')"),
    C("c-name-error", "-c", "undefined_name"),
    C("c-recursion-error", "-c", "def f():\n    return f()\nf()"),
    C("c-recursion-depth", "-c",
      "import sys\ndef d(n=0):\n    try:\n        return d(n + 1)\n    except RecursionError:\n"
      "        return n\nprint(sys.getrecursionlimit(), d())"),
    C("c-stack", "-c", "import traceback, sys; traceback.print_stack(file=sys.stdout)"),
    C("c-frame-back", "-c", "import sys, inspect; print(sys._getframe().f_back, len(inspect.stack()))"),
    C("c-assert", "-c", "assert 1 == 2, 'assertion message'"),
    # KeyboardInterrupt and signals
    C("c-kbint", "-c", "print('before'); raise KeyboardInterrupt"),
    C("c-kbint-by-signal", "-c",
      "import os, signal\nos.kill(os.getpid(), signal.SIGINT)\nfor i in range(10**8):\n    pass"),
    C("c-kbint-during-sleep", "-c",
      "import os, signal, time\n"
      "signal.signal(signal.SIGALRM, lambda *a: os.kill(os.getpid(), signal.SIGINT))\n"
      "signal.setitimer(signal.ITIMER_REAL, 0.2)\n"
      "time.sleep(5)"),
    C("c-kbint-caught", "-c",
      "try:\n    raise KeyboardInterrupt\nexcept KeyboardInterrupt:\n    print('caught')"),
    C("c-sigterm", "-c", "import os, signal; print('dying'); os.kill(os.getpid(), signal.SIGTERM)"),
    C("c-signal-handlers", "-c",
      "import signal\nfor s in ('SIGINT', 'SIGTERM', 'SIGPIPE', 'SIGCHLD', 'SIGHUP', 'SIGUSR1', "
      "'SIGXFSZ', 'SIGALRM'):\n    print(s, signal.getsignal(getattr(signal, s)))\n"
      "print('blocked', sorted(signal.pthread_sigmask(signal.SIG_BLOCK, [])))"),
    C("c-proc-signal-masks", "-c",
      "for line in open('/proc/self/status'):\n"
      "    if line.startswith(('SigBlk', 'SigIgn', 'SigCgt')):\n        print(line, end='')"),
    C("c-child-fds", "-c", "import os; os.system('ls /proc/self/fd')"),
    C("c-child-signal-masks", "-c",
      "import os; os.system(\"grep -E '^Sig(Blk|Ign)' /proc/self/status\")"),
    # atexit
    C("c-atexit", "-c",
      "import atexit\natexit.register(print, 'registered first, runs last')\n"
      "atexit.register(print, 'registered second, runs first')\nprint('body')"),
    C("c-atexit-with-exit-code", "-c",
      "import atexit, sys\natexit.register(print, 'atexit')\nsys.exit(9)"),
    C("c-atexit-raises", "-c",
      "import atexit\ndef bad():\n    raise RuntimeError('in atexit')\natexit.register(bad)\nprint('body')"),
    C("c-atexit-sys-exit", "-c",
      "import atexit, sys\natexit.register(sys.exit, 5)\nprint('body')"),
    C("c-flush-failure-at-exit", "-c",
      "import sys; sys.stdout = open('/dev/full', 'w'); print('x')"),
    # threads
    C("c-thread-state", "-c",
      "import threading\nprint(threading.current_thread().name, threading.active_count(),\n"
      "      threading.main_thread() is threading.current_thread(),\n"
      "      [t.name for t in threading.enumerate()])"),
    C("c-thread-sys-exit", "-c",
      "import sys, threading\ndef f():\n    sys.exit(3)\n"
      "t = threading.Thread(target=f)\nt.start()\nt.join()\nprint('main still running')"),
    # the run-time underneath the program: recursion, time, signals, processes
    C("c-recursion-depth-user-greenlet", "-c",
      "import greenlet\ndef d(n=0):\n    try:\n        return d(n + 1)\n    except RecursionError:\n"
      "        return n\nprint(greenlet.greenlet(d).switch())"),
    C("c-recursion-depth-atexit", "-c",
      "import atexit\ndef d(n=0):\n    try:\n        return d(n + 1)\n    except RecursionError:\n"
      "        return n\natexit.register(lambda: print('atexit', d()))"),
    C("c-recursion-depth-thread", "-c",
      "import threading\ndef d(n=0):\n    try:\n        return d(n + 1)\n    except RecursionError:\n"
      "        return n\nt = threading.Thread(target=lambda: print('thread', d()))\nt.start()\nt.join()"),
    C("c-sleep-introspection", "-c",
      "import time, inspect\ns = time.sleep\nprint(s, s.__name__, s.__qualname__, s.__module__, type(s).__name__)\n"
      "print(s.__doc__)\nprint(callable(s), inspect.isbuiltin(s))"),
    C("c-sleep-zero", "-c", "import time; time.sleep(0); time.sleep(0.01); print('slept')"),
    C("c-sleep-negative", "-c", "import time; time.sleep(-1)"),
    C("c-sleep-nan", "-c", "import time; time.sleep(float('nan'))"),
    C("c-sleep-huge", "-c", "import time; time.sleep(1e300)"),
    C("c-sleep-bad-type", "-c", "import time; time.sleep('1')"),
    C("c-sleep-no-args", "-c", "import time; time.sleep()"),
    C("c-sleep-resumes-after-handler", "-c",
      "import signal, time\nsignal.signal(signal.SIGALRM, lambda *a: print('handler ran'))\n"
      "signal.setitimer(signal.ITIMER_REAL, 0.1)\nt = time.monotonic()\ntime.sleep(0.3)\n"
      "print('slept fully', time.monotonic() - t >= 0.29)"),
    C("c-sleep-handler-raises", "-c",
      "import signal, time\ndef h(*a):\n    raise RuntimeError('from the handler')\n"
      "signal.signal(signal.SIGALRM, h)\nsignal.setitimer(signal.ITIMER_REAL, 0.1)\ntime.sleep(5)"),
    C("c-interrupt-main-during-sleep", "-c",
      "import signal, threading, time\nmain = threading.main_thread().ident\n"
      "threading.Timer(0.1, signal.pthread_kill, (main, signal.SIGINT)).start()\n"
      "t = time.monotonic()\ntry:\n    time.sleep(5)\nexcept KeyboardInterrupt:\n"
      "    print('interrupted early', time.monotonic() - t < 2)"),
    C("c-threads-sleep-order", "-c",
      "import threading, time\ndef w(name, delay):\n    time.sleep(delay)\n    print(name)\n"
      "ts = [threading.Thread(target=w, args=(n, d)) for n, d in (('slow', 0.3), ('fast', 0.1))]\n"
      "[t.start() for t in ts]\nprint('started')\n[t.join() for t in ts]\nprint('joined')"),
    C("c-event-copy-pickle-attrs", "-c",
      "import copy, pickle, threading\ne = threading.Event()\ne.owner = 'me'\nc = copy.copy(e)\n"
      "print(type(c).__name__, c.owner, c.is_set(), c._cond is e._cond, repr(e)[:17])\n"
      "for f in (copy.deepcopy, pickle.dumps):\n    try:\n        f(e)\n"
      "    except Exception as x:\n        print(f.__name__, type(x).__name__, x)\n"
      "e.set(); print(e.is_set(), e.wait(0), repr(e)[-5:])"),
    C("c-wakeup-fd", "-c", "import signal; print(signal.set_wakeup_fd(-1))"),
    C("c-faulthandler-dump", "-c", "import faulthandler\nfaulthandler.dump_traceback(all_threads=False)"),
    C("c-exc-info-top-level", "-c", "import sys; print(sys.exc_info())"),
    C("c-asyncio", "-c",
      "import asyncio\nasync def main():\n    await asyncio.sleep(0.05)\n    return 'async done'\n"
      "print(asyncio.run(main()))"),
    C("c-subprocess", "-c",
      "import subprocess, sys\nr = subprocess.run([sys.executable, '-c', 'print(6 * 7)'], capture_output=True,"
      " text=True, timeout=20)\nprint(r.returncode, r.stdout, r.stderr)\n"
      "print(subprocess.run(['sh', '-c', 'sleep 0.1; exit 3']).returncode)"),
    C("c-subprocess-timeout", "-c",
      "import subprocess\ntry:\n    subprocess.run(['sleep', '5'], timeout=0.2)\n"
      "except subprocess.TimeoutExpired as e:\n    print('timed out', e.cmd)"),
    C("c-help-builtin", "-c", "help(len)"),
    C("c-hash-seed", "-c", "import sys; print(hash('abc'), sys.flags.hash_randomization)",
      env={"PYTHONHASHSEED": "123"}),
    C("c-pythonhome-usr", "-c", "import sys; print(sys.prefix, sys.exec_prefix, sys.path)",
      env={"PYTHONHOME": "/usr"}),
    C("c-pythonhome-missing", "-c", "print('never')", env={"PYTHONHOME": "/nonexistent"}),
    C("script-fork", "scripts/fork.py"),
    C("script-trace-profile", "scripts/trace.py"),
    C("script-broken-pipe", "scripts/broken_pipe.py"),
    C("script-user-greenlets", "scripts/user_greenlets.py"),
    C("script-multiprocessing", "scripts/mp_spawn.py"),
    C("c-sleep-pickle", "-c",
      "import pickle, time; print(pickle.loads(pickle.dumps(time.sleep)) is time.sleep, "
      "time.sleep.__self__, time.sleep.__text_signature__)"),
    C("c-sleep-in-signal-handler", "-c",
      "import signal, time\ndef h(*a):\n    print('handler sleeps')\n    time.sleep(0.05)\n"
      "    print('handler done')\nsignal.signal(signal.SIGALRM, h)\n"
      "signal.setitimer(signal.ITIMER_REAL, 0.1)\ntime.sleep(0.3)\nprint('main done')"),
    C("c-sys-exit-from-signal-handler", "-c",
      "import signal, sys, time\nsignal.signal(signal.SIGALRM, lambda *a: sys.exit(3))\n"
      "signal.setitimer(signal.ITIMER_REAL, 0.1)\ntry:\n    time.sleep(5)\nfinally:\n"
      "    print('finally ran')"),
    C("c-interrupt-main-during-sleep-no-wakeup", "-c",
      # _thread.interrupt_main() only sets python3's signal flag: the sleep runs to its end
      "import _thread, threading, time\nthreading.Timer(0.1, _thread.interrupt_main).start()\n"
      "t = time.monotonic()\ntry:\n    time.sleep(1)\nexcept KeyboardInterrupt:\n"
      "    print('KeyboardInterrupt; slept the full second:', time.monotonic() - t >= 0.95)"),
    C("c-signal-pause", "-c",
      "import signal\nsignal.signal(signal.SIGALRM, lambda *a: print('alarm'))\n"
      "signal.setitimer(signal.ITIMER_REAL, 0.1)\nsignal.pause()\nprint('pause returned')"),
    C("c-select-retried-after-signal", "-c",
      "import select, signal, time\nsignal.signal(signal.SIGALRM, lambda *a: print('alarm'))\n"
      "signal.setitimer(signal.ITIMER_REAL, 0.1)\nt = time.monotonic()\n"
      "print(select.select([], [], [], 0.3), time.monotonic() - t >= 0.29)"),
    C("c-setrecursionlimit-low", "-c",
      "import sys\nsys.setrecursionlimit(50)\ndef d(n=0):\n    try:\n        return d(n + 1)\n"
      "    except RecursionError:\n        return n\nprint(d())"),
    C("c-setrecursionlimit-too-low", "-c", "import sys; sys.setrecursionlimit(1)"),
    C("c-current-frames", "-c",
      "import sys, threading\nframes = sys._current_frames()\n"
      "print(len(frames), frames[threading.get_ident()] is sys._getframe())"),
    C("c-thread-state-per-thread", "-c",
      "import asyncio, decimal, sys, threading\n"
      "class L(threading.local):\n    x = None\n"
      "out = []\n"
      "def body():\n"
      "    out.append((L().x, sys.gettrace(), sys.get_asyncgen_hooks().firstiter,\n"
      "                sys.get_coroutine_origin_tracking_depth(), decimal.getcontext().prec))\n"
      "    try:\n        asyncio.get_running_loop()\n    except RuntimeError as e:\n        out.append(str(e))\n"
      "async def main():\n"
      "    sys.set_coroutine_origin_tracking_depth(2)\n"
      "    decimal.getcontext().prec = 7\n"
      "    t = threading.Thread(target=body); t.start(); t.join()\n"
      "sys.settrace(lambda *a: None)\nsys.settrace(None)\n"
      "asyncio.run(main())\nprint(out)"),
    C("c-async-exc-fiber-thread", "-c",
      "import ctypes, threading, time\n"
      "stop = threading.Event()\n"
      "def body():\n"
      "    try:\n        while not stop.is_set():\n            time.sleep(0.01)\n"
      "    except ZeroDivisionError:\n        print('raised in the thread')\n"
      "t = threading.Thread(target=body); t.start()\n"
      "n = ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(t.ident), ctypes.py_object(ZeroDivisionError))\n"
      "print('thread states found:', n)\n"
      "time.sleep(0.1); stop.set(); t.join()"),
    C("c-sqlite-check-same-thread", "-c",
      "import sqlite3, threading\n"
      "c = sqlite3.connect(':memory:')\n"
      "def body():\n"
      "    try:\n        c.execute('select 1'); print('used from another thread')\n"
      "    except sqlite3.ProgrammingError as e:\n        print('ProgrammingError')\n"
      "t = threading.Thread(target=body); t.start(); t.join()"),
    C("c-excepthook", "-c",
      "import sys\nsys.excepthook = lambda t, v, tb: print('hooked', t.__name__, v, file=sys.stderr)\n"
      "raise ValueError('for the hook')"),
    C("c-excepthook-broken", "-c",
      "import sys\ndef hook(*a):\n    raise RuntimeError('hook failed')\nsys.excepthook = hook\n"
      "raise ValueError('original')"),
    C("c-threading-excepthook", "-c",
      "import threading\nthreading.excepthook = lambda a: print('thread hook', a.exc_type.__name__, "
      "a.thread.name)\nt = threading.Thread(target=lambda: 1 / 0, name='T')\nt.start()\nt.join()"),
    C("c-abort", "-c", "import os; print('aborting'); os.abort()"),
    C("c-faulthandler-segfault", "-X", "faulthandler", "-c", "import ctypes; ctypes.string_at(0)"),
    C("c-segfault-no-faulthandler", "-c", "import ctypes; ctypes.string_at(0)"),
    C("c-close-stdout-fd", "-c", "import os; os.close(1); print('x')"),
    C("c-asyncio-signal-handler", "-c",
      "import asyncio, os, signal\nasync def main():\n    loop = asyncio.get_running_loop()\n"
      "    got = loop.create_future()\n    loop.add_signal_handler(signal.SIGUSR1, got.set_result, 'usr1')\n"
      "    os.kill(os.getpid(), signal.SIGUSR1)\n    print(await asyncio.wait_for(got, 5))\n"
      "asyncio.run(main())"),
    C("c-asyncio-kbint", "-c",
      "import asyncio, signal, threading\nmain = threading.main_thread().ident\n"
      "threading.Timer(0.1, signal.pthread_kill, (main, signal.SIGINT)).start()\n"
      "asyncio.run(asyncio.sleep(5))"),
    # sockets, select, selectors, name resolution
    C("script-tcp-echo", "scripts/tcp_echo.py"),
    C("script-socket-big-transfer", "scripts/socket_big.py"),
    C("script-socket-errors", "scripts/socket_errors.py"),
    C("script-socket-timeouts", "scripts/socket_timeouts.py"),
    C("script-socket-misc", "scripts/socket_misc.py"),
    C("script-sockets-udp-unix", "scripts/sockets_udp_unix.py"),
    C("script-socket-signals", "scripts/socket_signals.py"),
    C("script-select-poll", "scripts/select_poll.py"),
    C("script-select-errors", "scripts/select_errors.py"),
    C("script-os-bad-fds", "scripts/os_bad_fds.py"),
    C("script-sigwait", "scripts/sigwait.py"),
    C("script-selectors", "scripts/selectors_demo.py"),
    C("script-http-roundtrip", "scripts/http_roundtrip.py"),
    C("script-asyncio-tcp", "scripts/asyncio_tcp.py"),
    C("script-fork-socket", "scripts/fork_socket.py"),
    C("script-resolver", "scripts/resolver.py"),
    C("c-connect-refused", "-c", "import socket; socket.socket().connect(('127.0.0.1', 1))"),
    C("c-create-connection-refused", "-c", "import socket; socket.create_connection(('127.0.0.1', 1))"),
    C("c-recv-timeout", "-c", "import socket; a, b = socket.socketpair(); a.settimeout(0.1); a.recv(1)"),
    C("c-accept-timeout", "-c",
      "import socket; s = socket.create_server(('127.0.0.1', 0)); s.settimeout(0.1); s.accept()"),
    C("c-accept-not-listening", "-c", "import socket; socket.socket().accept()"),
    C("c-recv-closed", "-c", "import socket; s = socket.socket(); s.close(); s.recv(1)"),
    C("c-send-str", "-c", "import socket; a, b = socket.socketpair(); a.send('text')"),
    C("c-getaddrinfo-bad-host", "-c", "import socket; socket.getaddrinfo('no-such-host.invalid', 80)"),
    C("c-gethostbyname-bad-host", "-c", "import socket; socket.gethostbyname('no-such-host.invalid')"),
    C("c-select-bad-fd", "-c", "import select; select.select([12345], [], [], 0)"),
    C("c-select-huge-timeout", "-c", "import os, select; r, w = os.pipe(); select.select([r], [], [], 1e300)"),
    C("c-poll-bad-timeout", "-c", "import select; select.poll().poll('x')"),
    C("c-kbint-in-recv", "-c",
      "import signal, socket, threading\na, b = socket.socketpair()\n"
      "threading.Timer(0.1, signal.pthread_kill, (threading.main_thread().ident, signal.SIGINT)).start()\n"
      "a.recv(1)"),
    C("c-kbint-in-select", "-c",
      "import os, select, signal, threading\nr, w = os.pipe()\n"
      "threading.Timer(0.1, signal.pthread_kill, (threading.main_thread().ident, signal.SIGINT)).start()\n"
      "select.select([r], [], [])"),
    C("c-kbint-in-poll", "-c",
      "import os, select, signal, threading\nr, w = os.pipe()\np = select.poll()\np.register(r)\n"
      "threading.Timer(0.1, signal.pthread_kill, (threading.main_thread().ident, signal.SIGINT)).start()\n"
      "p.poll()"),
    C("c-select-module-api", "-c",
      "import select\nprint(select.select, select.poll, type(select.poll()).__name__)\n"
      "print([n for n in ('select', 'poll', 'epoll', 'kqueue', 'devpoll') if hasattr(select, n)])"),
    C("c-selectors-default", "-c",
      "import selectors\nprint(selectors.DefaultSelector.__name__)\n"
      "print([n for n in ('EpollSelector', 'PollSelector', 'SelectSelector', 'DevpollSelector', "
      "'KqueueSelector') if hasattr(selectors, n)])"),
    C("c-epoll", "-c",
      "import os, select\nr, w = os.pipe()\nep = select.epoll()\nep.register(r, select.EPOLLIN)\n"
      "os.write(w, b'x')\nprint(ep.poll(1) == [(r, select.EPOLLIN)])\nep.close()"),
    C("c-socket-api", "-c",
      "import socket\nfor f in (socket.socket.recv, socket.socket.connect, socket.socket.recvfrom, "
      "socket.getaddrinfo, socket.gethostbyname):\n    print(f)"),
    # the patches underneath must stay invisible
    C("c-meta-path", "-c", "import sys; print(sys.meta_path)"),
    C("c-find-spec-signal", "-c",
      "import importlib.util; print(type(importlib.util.find_spec('signal').loader).__name__)"),
    C("c-pkgutil-loader-signal", "-c",
      "import pkgutil; print(pkgutil.get_loader('signal').get_filename('signal'))"),
    C("m-signal", "-m", "signal"),
    C("c-signal-reload", "-c",
      "import importlib, signal; importlib.reload(signal); print(signal.set_wakeup_fd(-1))"),
    C("c-set-wakeup-fd-introspection", "-c",
      "import signal\nf = signal.set_wakeup_fd\n"
      "print(f, f.__name__, f.__qualname__, f.__module__, type(f).__name__, f.__text_signature__)\n"
      "print(f.__doc__)"),
    C("c-set-wakeup-fd-bad-fd", "-c", "import signal; signal.set_wakeup_fd(12345)"),
    C("c-set-wakeup-fd-blocking-fd", "-c",
      "import os, signal; r, w = os.pipe(); signal.set_wakeup_fd(w)"),
    C("c-set-wakeup-fd-two-positional", "-c", "import signal; signal.set_wakeup_fd(-1, True)"),
    C("c-set-wakeup-fd-no-args", "-c", "import signal; signal.set_wakeup_fd()"),
    C("c-set-wakeup-fd-in-thread", "-c",
      "import signal, threading\ndef f():\n    signal.set_wakeup_fd(-1)\n"
      "t = threading.Thread(target=f, name='T')\nt.start()\nt.join()"),
    C("c-set-wakeup-fd-round-trip", "-c",
      "import os, signal, socket\nr, w = socket.socketpair()\nw.setblocking(False)\n"
      "signal.signal(signal.SIGUSR1, lambda *a: print('handler'))\n"
      "print('first', signal.set_wakeup_fd(w.fileno()))\n"
      "print('again', signal.set_wakeup_fd(w.fileno()) == w.fileno())\n"
      "os.kill(os.getpid(), signal.SIGUSR1)\nprint('byte', r.recv(10) == bytes([signal.SIGUSR1]))\n"
      "print('reset', signal.set_wakeup_fd(-1) == w.fileno())\nprint('after', signal.set_wakeup_fd(-1))"),
    C("c-set-wakeup-fd-then-kbint-in-sleep", "-c",
      "import signal, socket, threading, time\nr, w = socket.socketpair()\nw.setblocking(False)\n"
      "signal.set_wakeup_fd(w.fileno())\nmain = threading.main_thread().ident\n"
      "threading.Timer(0.1, signal.pthread_kill, (main, signal.SIGINT)).start()\n"
      "t = time.monotonic()\ntry:\n    time.sleep(5)\nexcept KeyboardInterrupt:\n"
      "    print('interrupted early', time.monotonic() - t < 2)"),
    C("i-after-c-sys-exit", "-i", "-c", "import sys; sys.exit(3)", stdin="print('in the repl')\n"),
    # closed standard fds
    C("closed-stdin-c", "-c", "import sys; print(sys.stdin)", closed=(0,)),
    C("closed-stdin-no-args", closed=(0,)),
    C("closed-stdin-input", "-c", "input()", closed=(0,)),
    C("closed-stdout", "-c", "import sys; print('x'); sys.stderr.write(repr(sys.stdout) + '\\n')",
      closed=(1,)),
    C("closed-stderr-exception", "-c", "print('out'); 1 / 0", closed=(2,)),
    C("closed-stderr-warning", "-c", "import warnings; warnings.warn('w'); print('out')", closed=(2,)),
    C("closed-all-three", "-c", "import sys; sys.exit(sys.stdin is sys.stdout is sys.stderr is None)",
      closed=(0, 1, 2)),
    # threads: python3's are OS threads, preemptive, with their own C stacks
    C("script-threads-sync", "scripts/threads_sync.py"),
    C("c-thread-idents", "-c",
      "import os, threading\nmain = threading.main_thread()\nseen = {}\n"
      "def f():\n    seen['ident'] = threading.get_ident()\n    seen['native'] = threading.get_native_id()\n"
      "t = threading.Thread(target=f)\nt.start()\nt.join()\n"
      "print(main.native_id == os.getpid(), seen['native'] != main.native_id, seen['ident'] != main.ident,"
      " t.ident == seen['ident'], t.native_id == seen['native'])"),
    C("c-thread-blocked-in-os-read", "-c",
      "import os, threading, time\nr, w = os.pipe()\n"
      "t = threading.Thread(target=lambda: print('thread read', os.read(r, 10)))\nt.start()\n"
      "time.sleep(0.1)\nprint('main writes')\nos.write(w, b'data')\nt.join()"),
    C("c-thread-blocked-in-lock-acquire-c-level", "-c",
      "import threading, time\nimport _thread\nlock = _thread.allocate_lock()\nlock.acquire()\n"
      "threading.Timer(0.1, lock.release).start()\nprint('acquired', lock.acquire(timeout=5))"),
    C("c-thread-preemption-busy-wait", "-c",
      "import threading, time\nflag = []\n"
      "threading.Thread(target=lambda: (time.sleep(0.1), flag.append(1))).start()\n"
      "t = time.monotonic()\nwhile not flag and time.monotonic() - t < 5:\n    pass\n"
      "print('the thread ran while main was busy:', bool(flag))"),
    C("c-thread-runs-without-main-yielding", "-c",
      "import threading\nout = []\nt = threading.Thread(target=lambda: out.append('ran'))\nt.start()\n"
      "x = 0\nfor i in range(3_000_000):\n    x += i\nt.join()\nprint(out)"),
    C("c-signal-in-thread", "-c",
      "import signal, threading\ndef f():\n    signal.signal(signal.SIGUSR1, signal.SIG_IGN)\n"
      "t = threading.Thread(target=f, name='T')\nt.start()\nt.join()"),
    C("c-signal-handler-runs-in-main-thread", "-c",
      "import os, signal, threading, time\n"
      "signal.signal(signal.SIGUSR1, lambda *a: print('handler in', threading.current_thread().name))\n"
      "def f():\n    os.kill(os.getpid(), signal.SIGUSR1)\n    time.sleep(0.2)\n"
      "t = threading.Thread(target=f, name='T')\nt.start()\nt.join()"),
    C("c-faulthandler-all-threads", "-c",
      "import faulthandler, threading, time\nt = threading.Thread(target=time.sleep, args=(0.5,))\n"
      "t.start()\ntime.sleep(0.1)\nfaulthandler.dump_traceback(all_threads=True)\nt.join()"),
    C("c-daemon-thread-at-exit", "-c",
      "import threading, time\ndef f():\n    time.sleep(0.2)\n    print('never: the daemon dies with the process')\n"
      "threading.Thread(target=f, daemon=True).start()\nprint('main exits')"),
    C("c-start-new-thread", "-c",
      "import _thread, time\ndone = _thread.allocate_lock()\ndone.acquire()\n"
      "def f(a, b):\n    print('low-level thread', a + b)\n    done.release()\n"
      "_thread.start_new_thread(f, (1, 2))\nprint('waiting', done.acquire(timeout=5))"),
    C("c-switch-interval", "-c", "import sys; print(sys.getswitchinterval()); sys.setswitchinterval(0.001); "
      "print(sys.getswitchinterval())"),
    C("c-thread-stack-size", "-c",
      "import threading; print(threading.stack_size()); print(threading.stack_size(1 << 20)); "
      "print(threading.stack_size())"),
    # stdio
    C("c-input", "-c", "print('got', input('prompt> '))", stdin="world\n"),
    C("c-input-eof", "-c", "input('prompt> ')"),
    C("c-stdin-read", "-c", "import sys; print(repr(sys.stdin.read()))", stdin="abc\ndéf"),
    C("c-stdio-objects", "-c",
      "import sys\nfor f in (sys.stdin, sys.stdout, sys.stderr):\n"
      "    print(type(f).__name__, type(f.buffer).__name__, type(getattr(f.buffer, 'raw', None)).__name__,"
      " f.name,"
      " f.fileno(), f.line_buffering, f.write_through, f.isatty())"),
    C("c-environ", "-c", "import os; print(sorted(os.environ))"),
    C("c-warnings-filters", "-c", "import warnings; print(warnings.filters)"),
    C("c-unraisable", "-c",
      "class A:\n    def __del__(self):\n        raise ValueError('in __del__')\nA()\nprint('after')"),
    # encodings
    C("c-nonascii-print", "-c", "print('héllo wörld ☃ 日本語 🐍')"),
    C("c-surrogate-print", "-c", "print('\\udcff')"),
    C("c-encodings", "-c", SHOW_ENCODINGS),
    C("c-encodings-lc-all-c", "-c", SHOW_ENCODINGS, env={"LC_ALL": "C"}),
    C("c-encodings-ioencoding", "-c", SHOW_ENCODINGS, env={"PYTHONIOENCODING": "latin-1:replace"}),
    C("c-encodings-utf8-off-c-locale", "-c", SHOW_ENCODINGS, env={"LC_ALL": "C", "PYTHONUTF8": "0"}),
    C("c-nonascii-ascii-stdout", "-c", "print('héllo')", env={"PYTHONIOENCODING": "ascii"}),
    C("c-nonascii-ascii-replace", "-c", "print('héllo ☃')", env={"PYTHONIOENCODING": "ascii:replace"}),

    # --- scripts ----------------------------------------------------------
    C("script-relative", "scripts/show.py", "one", "two"),
    C("script-absolute", "{work}/scripts/show.py"),
    C("script-dotdot", "scripts/../scripts/show.py"),
    C("script-via-symlink", "linked/show_link.py", setup="symlink"),
    C("script-no-extension", "scripts/no_extension"),
    C("script-raises", "scripts/raises.py"),
    C("script-syntax-error", "scripts/syntax_error.py"),
    C("script-skip-first-line", "-x", "scripts/skip_first.py", "arg"),
    C("script-latin1-cookie", "scripts/latin1_cookie.py"),
    C("script-nonascii", "scripts/nonascii.py"),
    C("script-warnings", "scripts/warn.py"),
    C("script-kbint", "scripts/kbint.py"),
    C("script-exception-group", "scripts/exc_group.py"),
    C("script-stack", "scripts/stack.py"),
    C("script-recursion", "scripts/recursion.py"),
    C("script-atexit", "scripts/atexit_demo.py"),
    C("script-thread-sys-exit", "scripts/exit_in_thread.py"),
    C("script-thread-exception", "scripts/thread_exception.py"),
    C("script-thread-outlives-main", "scripts/thread_at_exit.py"),
    C("script-missing", "no_such_script.py"),
    C("script-missing-absolute", "{work}/no/such/dir/script.py"),
    C("script-directory-without-main", "nomain_dir"),
    C("script-after-double-dash", "--", "scripts/show.py", "-c", "x"),
    C("script-isolated-path0", "-I", "scripts/show.py"),
    C("script-safe-path-path0", "-P", "scripts/show.py"),
    C("script-then-interactive", "-i", "scripts/interactive_after.py", stdin="print('value is', value)\n"),
    # directories and zip files with __main__.py
    C("dir-app", "appdir", "a1"),
    C("dir-app-absolute", "{work}/appdir"),
    C("zip-app", "app.pyz", "z1", setup="zipapp"),
    C("zip-app-with-shebang", "shebang.pyz", setup="zipapp"),
    C("zip-without-main", "nomain.zip", setup="zipapp"),

    # --- -m ---------------------------------------------------------------
    C("m-package-main", "-m", "pkg", "a", "b"),
    C("m-module", "-m", "pkg.mod", "x", "--flag"),
    C("m-raises", "-m", "pkg.raises"),
    C("m-exits", "-m", "pkg.exits"),
    C("m-kbint", "-m", "pkg.kbint"),
    C("m-missing", "-m", "no_such_module"),
    C("m-missing-submodule", "-m", "pkg.no_such_module"),
    C("m-relative-name", "-m", ".pkg"),
    C("m-package-without-main", "-m", "nomain_pkg"),
    C("m-import-fails", "-m", "badpkg.mod"),
    C("m-safe-path", "-P", "-m", "pkg"),
    C("m-isolated", "-I", "-m", "pkg.mod"),
    C("m-json-tool", "-m", "json.tool", stdin='{"b": 1, "a": [1, 2, {"c": "é"}]}'),
    C("m-json-tool-sort-keys", "-m", "json.tool", "--sort-keys", "--indent", "2",
      stdin='{"b": 1, "a": null}'),
    C("m-json-tool-invalid", "-m", "json.tool", stdin="{not json"),
    C("m-site", "-m", "site"),
    C("m-this", "-m", "this"),
    C("m-py-compile-error", "-m", "py_compile", "scripts/syntax_error.py"),
    C("m-pdb", "-m", "pdb", "scripts/hello.py", stdin="next\nnext\np greeting\ncontinue\nquit\n"),

    # --- stdin ------------------------------------------------------------
    C("stdin-dash", "-", stdin=STDIN_SHOW),
    C("stdin-dash-args", "-", "arg1", "arg2", stdin=STDIN_SHOW),
    C("stdin-no-args", stdin=STDIN_SHOW),
    C("stdin-raises", "-", stdin="print('ok')\ndef f():\n    raise TypeError('from stdin')\nf()\n"),
    C("stdin-syntax-error", stdin="print('never')\nx = (\n"),
    C("stdin-exit", stdin="import sys\nprint('exiting 12')\nsys.exit(12)\n"),
    C("stdin-kbint", stdin="raise KeyboardInterrupt\n"),
    C("stdin-latin1-cookie", stdin=b"# -*- coding: latin-1 -*-\nprint('caf\xe9')\n"),
    C("stdin-globals", stdin="print(sorted(globals()))\n"),
    # interactive mode on a pipe
    C("interactive-after-c", "-i", "-c", "x = 5", stdin="print(x * 2)\n"),
    C("interactive-quiet", "-q", "-i", stdin="print(6 * 7)\n1 + 1\n"),
    C("interactive-banner", "-i", stdin="print('hi')\n"),
    C("interactive-error", "-q", "-i", stdin="1 / 0\nprint('still here')\n"),
    C("interactive-exit-code", "-q", "-i", stdin="import sys\nsys.exit(3)\n"),
    C("interactive-startup-file", "-q", "-i", stdin="print(STARTUP_VAR)\n",
      env={"PYTHONSTARTUP": "{work}/startup.py"}),
    C("pythoninspect-set-by-program", "-c", "import os; os.environ['PYTHONINSPECT'] = '1'",
      stdin="print('inspecting')\n"),
    C("combined-qic", "-qic", "y = 3", stdin="print(y)\n"),

    # --- sys.path -----------------------------------------------------------
    C("path-default", "-c", SHOW_PATH),
    C("path-isolated", "-I", "-c", SHOW_PATH),
    C("path-no-user-site", "-s", "-c", SHOW_PATH),
    C("path-no-site", "-S", "-c", SHOW_PATH),
    C("path-no-site-site-not-imported", "-S", "-c", "import sys; print('site' in sys.modules)"),
    C("path-safe-path", "-P", "-c", SHOW_PATH),
    C("path-safe-path-env", "-c", SHOW_PATH, env={"PYTHONSAFEPATH": "1"}),
    C("path-pythonpath", "-c", SHOW_PATH + "; import extmod", env={"PYTHONPATH": "{work}/extra_path"}),
    C("path-pythonpath-ignored-by-E", "-E", "-c", SHOW_PATH, env={"PYTHONPATH": "{work}/extra_path"}),
    C("path-script-no-site", "-S", "scripts/show.py"),
    C("path-site-module", "-c",
      "import site, sys; print(site.ENABLE_USER_SITE, site.getsitepackages(), sys.prefix, "
      "sys.exec_prefix, sys.base_prefix, sys.platlibdir)"),

    # --- flags --------------------------------------------------------------
    C("flags-isolated", "-I", "-c", SHOW_FLAGS),
    C("flags-E-s", "-E", "-s", "-c", SHOW_FLAGS),
    C("flags-S-B-d", "-S", "-B", "-d", "-c", SHOW_FLAGS),
    C("flags-O", "-O", "-c", SHOW_FLAGS),
    C("flags-OO-b", "-OO", "-b", "-c", SHOW_FLAGS),
    C("flags-bb-q-u", "-bb", "-q", "-u", "-c", SHOW_FLAGS),
    C("flags-X-dev", "-X", "dev", "-c", SHOW_FLAGS),
    C("flags-X-utf8", "-X", "utf8", "-c", SHOW_FLAGS),
    C("flags-X-warn-default-encoding", "-X", "warn_default_encoding", "-c",
      SHOW_FLAGS + "\nopen('/dev/null').close()"),
    C("flags-P-R", "-P", "-R", "-c", SHOW_FLAGS),
    C("flags-interactive", "-i", "-c", SHOW_FLAGS),
    C("flags-from-env", "-c", SHOW_FLAGS,
      env={"PYTHONOPTIMIZE": "2", "PYTHONDEBUG": "1", "PYTHONNOUSERSITE": "1", "PYTHONINSPECT": ""}),
    C("flags-env-ignored-by-E", "-E", "-c", SHOW_FLAGS,
      env={"PYTHONOPTIMIZE": "2", "PYTHONDEBUG": "1", "PYTHONNOUSERSITE": "1"}),
    C("flag-B", "-E", "-B", "-c", "import sys; print(sys.dont_write_bytecode)"),
    C("flag-no-B", "-E", "-c", "import sys; print(sys.dont_write_bytecode)"),
    C("flag-s", "-s", "-c", "import sys, site; print(sys.flags.no_user_site, site.ENABLE_USER_SITE)"),
    C("flag-d", "-d", "-c", "import sys; print(sys.flags.debug)"),
    C("flag-q", "-q", "-c", "import sys; print(sys.flags.quiet)"),
    C("flag-O-debug-assert", "-O", "-c", "print(__debug__)\nassert False, 'not skipped'\nprint('skipped')"),
    C("flag-O-docstrings", "-O", "scripts/docstrings.py"),
    C("flag-OO-docstrings", "-OO", "scripts/docstrings.py"),
    C("flag-none-docstrings", "scripts/docstrings.py"),
    C("flag-b", "-b", "-c", "print(str(b'x')); print(b'a' == 'a')"),
    C("flag-bb", "-bb", "-c", "print(str(b'x'))"),
    C("flag-u-merged", "-u", "-c", OUT_ERR_OUT, env=NO_UNBUFFERED, merge=True),
    C("buffered-merged", "-c", OUT_ERR_OUT, env=NO_UNBUFFERED, merge=True),
    C("unbuffered-env-merged", "-c", OUT_ERR_OUT, merge=True),
    C("buffered-script-merged", "scripts/nonascii.py", env=NO_UNBUFFERED, merge=True),
    C("flag-v", "-v", "-c", "print('verbose')", allow="verbose-import-trace"),
    C("flag-v-exit-code", "-v", "-c", "import sys; sys.exit(3)", allow="verbose-import-trace"),
    C("flag-v-env", "-c", "import sys; print(sys.flags.verbose)", env={"PYTHONVERBOSE": "1"},
      allow="verbose-import-trace"),
    # warnings
    C("warn-user", "-c", "import warnings; warnings.warn('careful')"),
    C("warn-deprecation-in-main", "-c", "import warnings; warnings.warn('old', DeprecationWarning)"),
    C("warn-W-error", "-W", "error", "-c", "import warnings; warnings.warn('now an error')"),
    C("warn-W-error-quiet-program", "-W", "error", "-c", "print('no warnings at start-up')"),
    C("warn-W-error-category", "-W", "error::DeprecationWarning", "-c",
      "import warnings; warnings.warn('user warning stays'); warnings.warn('dep', DeprecationWarning)"),
    C("warn-W-ignore", "-W", "ignore", "-c", "import warnings; warnings.warn('hidden'); print('ok')"),
    C("warn-W-invalid", "-W", "badaction", "-c", "print('runs anyway')"),
    C("warn-env-error", "-c", "import warnings; warnings.warn('env error')", env={"PYTHONWARNINGS": "error"}),
    C("warn-warnoptions", "-W", "ignore::UserWarning", "-X", "dev", "-c",
      "import sys; print(sys.warnoptions, sys._xoptions)"),
    # -X
    C("X-dev-quiet-program", "-X", "dev", "-c", "print('nothing else on stderr')"),
    C("X-dev-resource-warning", "-X", "dev", "-c", "f = open('/dev/null'); del f; print('after')"),
    C("X-dev-flags", "-X", "dev", "-c",
      "import sys, faulthandler; print(sys.flags.dev_mode, faulthandler.is_enabled())"),
    C("X-dev-script-warnings", "-X", "dev", "scripts/warn.py"),
    C("X-utf8-encodings", "-X", "utf8", "-c", SHOW_ENCODINGS, env={"LC_ALL": "C"}),
    C("X-utf8-0-encodings", "-X", "utf8=0", "-c", SHOW_ENCODINGS),
    C("X-utf8-invalid", "-X", "utf8=bad", "-c", "print('never')"),
    C("X-int-max-str-digits-invalid", "-X", "int_max_str_digits=bad", "-c", "print('never')"),
    C("X-int-max-str-digits", "-X", "int_max_str_digits=640", "-c",
      "print(len(str(10 ** 600)))\nprint(len(str(10 ** 700)))"),
    C("X-tracemalloc", "-X", "tracemalloc=5", "-c",
      "import tracemalloc; print(tracemalloc.is_tracing(), tracemalloc.get_traceback_limit())"),
    C("X-faulthandler", "-X", "faulthandler", "-c", "import faulthandler; print(faulthandler.is_enabled())"),
    C("X-unknown-option", "-X", "something_odd", "-c", "import sys; print(sys._xoptions)"),
    C("X-frozen-modules-off", "-X", "frozen_modules=off", "-c",
      "import os; print(os.__spec__.origin)"),

    # --- on a terminal ------------------------------------------------------
    T("tty-repl", steps=["1 + 1\r", "print('hi')\r", "exit()\r"]),
    T("tty-repl-quiet", "-q", steps=["x = 6 * 7\r", "x\r", "\x04"]),
    T("tty-repl-exit-code", "-q", steps=["import sys\r", "sys.exit(5)\r"]),
    T("tty-repl-exception", "-q", steps=["1 / 0\r", "exit()\r"]),
    T("tty-repl-ctrl-c-at-prompt", "-q",
      steps=[(PROMPT, b""), (0.3, b"\x03"), "print('after ^C')\r", "exit()\r"]),
    T("tty-repl-ctrl-c-in-sleep", "-q",
      steps=["import time\r", "time.sleep(5)\r", (0.5, b"\x03"), "print('after ^C')\r", "exit()\r"]),
    T("tty-repl-ctrl-c-in-busy-loop", "-q",
      steps=["while True: pass\r", (b"... ", b"\r"), (0.5, b"\x03"), "exit()\r"]),
    T("tty-repl-sleep-and-threads", "-q",
      steps=["import threading, time\r",
             "t = threading.Thread(target=time.sleep, args=(0.1,)); t.start(); t.join(); time.sleep(0.1)\r",
             "print(threading.active_count())\r", "exit()\r"]),
    T("tty-repl-readline", "-q",
      steps=["import sys\r", "print('readline' in sys.modules, 'rlcompleter' in sys.modules)\r",
             "exit()\r"]),
    T("tty-repl-tab-completion", "-q", steps=[(PROMPT, b"impo\t"), (b"import ", b"sys\r"),
                                               "sys.ver\t\t", (0.3, b"\x15exit()\r")]),
    T("tty-repl-multiline", "-q", steps=["def f():\r", (b"... ", b"    return 3\r"), (b"... ", b"\r"),
                                         "f()\r", "exit()\r"]),
    T("tty-repl-startup-file", "-q", steps=["print(STARTUP_VAR)\r", "exit()\r"],
      env={"PYTHONSTARTUP": "{work}/startup.py"}),
    T("tty-i-after-script", "-q", "-i", "scripts/interactive_after.py",
      steps=["print(value)\r", "exit()\r"]),
    T("tty-pythoninspect-set-by-program", "-q", "-c", "import os; os.environ['PYTHONINSPECT'] = '1'",
      steps=["print('inspecting')\r", "\x04"]),
    T("tty-isatty", "-c",
      "import sys; print(sys.stdin.isatty(), sys.stdout.isatty(), sys.stdout.line_buffering, "
      "sys.stderr.line_buffering)"),
    T("tty-input", "-c", "print('got', input('name? '))", steps=[(b"name? ", b"tty\r")]),
    # (^C typed the moment the prompt shows can beat python3's read() and be lost)
    T("tty-input-ctrl-c", "-c", "input('name? ')", steps=[(b"name? ", b""), (0.3, b"\x03")]),
    T("tty-ctrl-c-in-sleep", "-c", "import time; print('sleeping'); time.sleep(5)",
      steps=[(b"sleeping\r\n", b""), (0.3, b"\x03")]),
    T("tty-ctrl-c-in-busy-loop", "-c", "print('looping')\nwhile True:\n    pass",
      steps=[(b"looping\r\n", b""), (0.3, b"\x03")]),
    T("tty-ctrl-backslash", "-c", "import time; print('sleeping'); time.sleep(5)",
      steps=[(b"sleeping\r\n", b""), (0.3, b"\x1c")]),
    T("tty-getpass", "-c", "import getpass; print(repr(getpass.getpass('pw: ')))",
      steps=[(b"pw: ", b"secret\r")]),

    # --- version, help, usage errors ---------------------------------------
    C("version-V", "-V"),
    C("version-long", "--version"),
    C("version-VV", "-VV"),
    C("help-h", "-h"),
    C("help-long", "--help"),
    C("usage-unknown-short", "-Z"),
    C("usage-unknown-long", "--frobnicate"),
    C("usage-c-missing-argument", "-c"),
    C("usage-m-missing-argument", "-m"),
    C("usage-W-missing-argument", "-W"),
    C("usage-X-missing-argument", "-X"),
]


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
    "c-current-frames": "sys._current_frames() is keyed by OS thread, get_ident() by fiber-thread or greenlet",
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
