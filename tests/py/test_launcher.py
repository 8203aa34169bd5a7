"""The launcher: the target runs in a hub-driven greenlet; exit status and
signals behave as python3's."""
import os
import signal
import subprocess
import sys

import pytest

from conftest import PYTHON, TFPYTHON, run_tfpython, start_blocked


def test_pytest_itself_runs_inside_the_hub(in_hub):
    import greenlet
    current = greenlet.getcurrent()
    assert current.parent is not None, "the target must be a child of the hub greenlet"


def test_hub_is_running_in_target_and_not_in_real_thread():
    r = run_tfpython("""
        import _framework_core, _thread, time
        from theframework.monkey import get_original
        start = get_original("_thread", "start_new_thread")
        lock = get_original("_thread", "allocate_lock")()
        seen = []
        lock.acquire()
        def on_thread():
            seen.append(_framework_core.hub_is_running())
            lock.release()
        start(on_thread, ())
        lock.acquire()
        print(_framework_core.hub_is_running(), seen[0])
    """)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["True", "False"]


def test_sys_executable_is_tfpython_and_subprocess_starts_it_again():
    r = run_tfpython("""
        import subprocess, sys
        out = subprocess.run([sys.executable, "-c", "import _framework_core; print(_framework_core.hub_is_running())"],
                             capture_output=True, text=True).stdout
        print(sys.executable, out.strip())
    """)
    assert r.returncode == 0, r.stderr
    exe, inner = r.stdout.split()
    assert os.path.realpath(exe) == os.path.realpath(TFPYTHON)
    assert inner == "True"


@pytest.mark.parametrize("code,expected", [
    ("pass", 0),
    ("raise SystemExit", 0),
    ("raise SystemExit(None)", 0),
    ("raise SystemExit(3)", 3),
    ("raise SystemExit(256 + 7)", 7),
    ("raise SystemExit('bye')", 1),
    ("import sys; sys.exit(42)", 42),
    ("1/0", 1),
    ("def f(:", 1),
])
def test_exit_status_matches_python3(code, expected):
    ours = run_tfpython(code)
    theirs = subprocess.run([PYTHON, "-c", code], capture_output=True, text=True)
    assert ours.returncode == theirs.returncode == expected
    assert ours.stdout == theirs.stdout
    assert ours.stderr == theirs.stderr


def test_system_exit_from_the_program_still_runs_atexit_inside_the_hub():
    r = run_tfpython("""
        import atexit, sys
        atexit.register(lambda: print("atexit ran"))
        sys.exit(5)
    """)
    assert (r.returncode, r.stdout) == (5, "atexit ran\n")


def test_sigint_while_blocked_in_sleep_raises_at_that_line_and_dies_by_sigint(tmp_path):
    p = start_blocked("import time\nprint('ready', flush=True)\ntime.sleep(30)  # blocked here\n", tmp_path)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=10)
    assert p.returncode == -signal.SIGINT, err
    assert "time.sleep(30)  # blocked here" in err
    assert err.rstrip().endswith("KeyboardInterrupt")


def test_sigint_while_a_spawned_greenlet_runs_reaches_the_main_greenlet(tmp_path):
    p = start_blocked(
        "import time, theframework\n"
        "theframework.spawn(time.sleep, 30)\n"
        "print('ready', flush=True)\n"
        "theframework.Event().wait()  # main waits here\n", tmp_path)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=10)
    assert p.returncode == -signal.SIGINT, err
    assert "main waits here" in err


def test_opt_out_leaves_the_standard_library_alone():
    code = "import time, theframework.monkey as m; print(m.is_module_patched('time'), time.sleep.__self__)"
    patched = run_tfpython(code)
    plain = run_tfpython(code, env={"TFPYTHON_NO_PATCH": "1"})
    assert patched.stdout.startswith("True ")
    assert plain.stdout.startswith("False <module 'time'")


def test_nothing_is_left_in_main_and_sys_path_is_python3s():
    code = "import sys; print(sorted(k for k in vars(sys.modules['__main__']) if not k.startswith('__'))); print(sys.path)"
    ours = run_tfpython(code, flags=["-I"])
    theirs = subprocess.run([PYTHON, "-I", "-c", code], capture_output=True, text=True)
    assert ours.stdout == theirs.stdout


def test_theframework_importable_under_isolated_and_no_site():
    r = run_tfpython("import theframework, greenlet, sys; print(theframework.spawn.__name__, 'greenlet' in sys.modules)",
                     flags=["-I", "-S"])
    assert r.returncode == 0, r.stderr
    assert r.stdout == "spawn True\n"


@pytest.mark.parametrize("name", ["prog.pyc", "prog_without_extension"])
def test_compiled_main_file_runs_as_under_python3(tmp_path, name):
    # python3 runs a .pyc given as the script (by its name, or by the magic
    # number at its start), with a SourcelessFileLoader as __loader__.
    import py_compile
    source = tmp_path / "prog.py"
    source.write_text("import sys\nprint(__name__, type(__loader__).__name__, sys.argv[1:])\n"
                      "import time; time.sleep(0)\n")
    compiled = tmp_path / name
    py_compile.compile(str(source), cfile=str(compiled), doraise=True)
    source.unlink()
    ours = run_tfpython(None, "x", script=compiled)
    theirs = subprocess.run([PYTHON, str(compiled), "x"], capture_output=True, text=True)
    assert (ours.returncode, ours.stdout, ours.stderr) == (theirs.returncode, theirs.stdout, theirs.stderr)
    assert ours.stdout == "__main__ SourcelessFileLoader ['x']\n"


def test_bad_compiled_main_file_fails_as_under_python3(tmp_path):
    bad = tmp_path / "bad.pyc"
    bad.write_bytes(b"not a code object")
    ours = run_tfpython(None, script=bad)
    theirs = subprocess.run([PYTHON, str(bad)], capture_output=True, text=True)
    assert (ours.returncode, ours.stderr) == (theirs.returncode, theirs.stderr)
    assert "Bad magic number" in ours.stderr


def test_a_program_that_never_waits_has_python3s_fds_and_the_ring_comes_on_first_wait():
    # The ring and the wake-up eventfd are made on first use: a child that
    # lists its fds (subprocess's pass_fds tests do) sees python3's list.
    code = "import os; print(sorted(int(f) for f in os.listdir('/proc/self/fd')))"
    ours = run_tfpython(code)
    theirs = subprocess.run([PYTHON, "-c", code], capture_output=True, text=True)
    assert ours.stdout == theirs.stdout and ours.returncode == 0
    after_wait = run_tfpython("import os, time; time.sleep(0.001); " + code[len("import os; "):])
    fds = eval(after_wait.stdout)
    assert set(fds) - set(eval(theirs.stdout)) and min(set(fds) - set(eval(theirs.stdout))) >= 900
