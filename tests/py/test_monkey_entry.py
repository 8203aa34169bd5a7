"""`python3 -m theframework.monkey` (plain python3, the package and the
extension module from this build on PYTHONPATH) and the per-module
opt-outs of both modes: TFPYTHON_NO_PATCH=socket,ssl and --no-MODULE."""
import subprocess
import textwrap
import time

import pytest

from conftest import PYTHON, plain_python_env, run_tfpython


def run_monkey(*args, env=None, timeout=30, cwd=None):
    full_env = plain_python_env(env)
    start = time.monotonic()
    r = subprocess.run([PYTHON, "-m", "theframework.monkey", *args], capture_output=True, text=True,
                       timeout=timeout, env=full_env, cwd=cwd)
    return r, time.monotonic() - start


THREADED = textwrap.dedent("""
    import socket, sys, threading, time
    import _framework_core
    from theframework import monkey

    def work(n):
        time.sleep(0.2)
        print("worker", n, _framework_core.hub_is_running(), flush=True)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    threading.Thread(target=time.sleep, args=(60,), daemon=True).start()
    import atexit
    atexit.register(print, "atexit ran")
    print("argv", sys.argv[1:], "socket patched", monkey.is_module_patched("socket"), flush=True)
    sys.exit(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
""")


@pytest.fixture
def threaded(tmp_path):
    path = tmp_path / "threaded.py"
    path.write_text(THREADED)
    return str(path)


@pytest.mark.parametrize("status", ["0", "3"])
def test_a_threaded_program_ends_as_under_tfpython(threaded, status):
    r, elapsed = run_monkey(threaded, status)
    t = run_tfpython(None, status, script=threaded)
    assert (r.returncode, r.stdout, r.stderr) == (t.returncode, t.stdout, t.stderr)
    assert r.returncode == int(status)
    assert sorted(r.stdout.splitlines()) == sorted(
        ["argv ['%s'] socket patched True" % status, "worker 0 True", "worker 1 True", "worker 2 True",
         "atexit ran"])
    # A daemon thread sleeping 60 s does not hold the exit up.
    assert elapsed < 1 + 3, elapsed  # 0.2 s of work; start-up and a loaded machine's margin


def test_double_dash_ends_the_options(threaded, tmp_path):
    dashed = tmp_path / "-dashed.py"
    dashed.write_text(THREADED)
    r, _ = run_monkey("--", str(dashed), "5", cwd=tmp_path)
    assert r.returncode == 5, r.stderr
    r, _ = run_monkey("--", "-dashed.py", cwd=tmp_path)
    assert r.returncode == 0, r.stderr


def test_a_module_target_with_its_arguments(tmp_path):
    (tmp_path / "app_mod.py").write_text("import sys, socket\nprint(sys.argv, __name__)\n")
    for flag in ("-m", "--module"):
        r, _ = run_monkey(flag, "app_mod", "a", "-b", cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        assert r.stdout.strip().endswith("'a', '-b'] __main__"), r.stdout


def test_a_package_target_as_module_and_as_directory(tmp_path):
    # python3 -m pkg runs pkg/__main__.py; python3 DIR runs DIR/__main__.py.
    package = tmp_path / "app_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "__main__.py").write_text(
        "import sys, threading\nfrom theframework import monkey\n"
        "print(__name__, __spec__ and __spec__.name, sys.argv[1:], monkey.is_module_patched('threading'))\n"
        "sys.exit(4)\n")
    r, _ = run_monkey("-m", "app_pkg", "x", cwd=tmp_path)
    t = run_tfpython(None, "x", flags=["-m", "app_pkg"], cwd=tmp_path)
    assert (r.returncode, r.stdout) == (t.returncode, t.stdout) == (4, "__main__ app_pkg.__main__ ['x'] True\n")
    r, _ = run_monkey(str(package), "y", cwd=tmp_path)
    t = run_tfpython(None, "y", script=package, cwd=tmp_path)
    assert (r.returncode, r.stdout) == (t.returncode, t.stdout) == (4, "__main__ __main__ ['y'] True\n")


def test_a_pytest_run_under_it(tmp_path):
    (tmp_path / "test_sample.py").write_text(textwrap.dedent("""
        import socket, threading, _framework_core
        def test_in_hub():
            assert _framework_core.hub_is_running()
            a, b = socket.socketpair()
            t = threading.Thread(target=lambda: b.sendall(b"x"))
            t.start()
            assert a.recv(1) == b"x"
            t.join()
        def test_fails():
            assert False
    """))
    r, elapsed = run_monkey("-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path), cwd=tmp_path,
                            timeout=60)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "1 failed, 1 passed" in r.stdout


def test_no_module_options(threaded):
    r, _ = run_monkey("--verbose", "--no-socket", "--no-ssl", threaded)
    assert r.returncode == 0, r.stderr
    assert "socket patched False" in r.stdout
    assert "theframework.monkey: patched:" in r.stderr and "socket" not in r.stderr.split("imported:")[1]


@pytest.mark.parametrize("args, message", [
    (["--no-bogus", "x.py"], "no patch for module 'bogus'"),
    (["--frob", "x.py"], "unknown option --frob"),
    ([], "a script or --module name is needed"),
    (["--module"], "a module name is needed after --module"),
])
def test_bad_command_lines_exit_2_with_a_reason(args, message):
    r, _ = run_monkey(*args)
    assert r.returncode == 2
    assert r.stderr.startswith("usage: python3 -m theframework.monkey")
    assert message in r.stderr


PROBE = textwrap.dedent("""
    import socket, ssl, selectors, select, queue, threading
    from theframework import monkey
    names = ("socket", "ssl", "select", "selectors", "threading", "queue", "_thread", "time")
    print(sorted(n for n in names if monkey.is_module_patched(n)))
    print(socket.socket.__module__, select.select.__module__ if hasattr(select.select, "__module__") else "")
""")


@pytest.mark.parametrize("value, unpatched", [
    ("socket,ssl", {"socket", "ssl"}),
    (" socket , ssl ", {"socket", "ssl"}),
    # selectors' patch builds on select's: leaving select alone leaves it too.
    ("select", {"select", "selectors"}),
    ("_thread", {"_thread", "threading", "queue"}),
    ("0", set()),
])
def test_tfpython_no_patch_names_modules(value, unpatched):
    r = run_tfpython(PROBE, env={"TFPYTHON_NO_PATCH": value})
    assert r.returncode == 0, r.stderr
    everything = {"socket", "ssl", "select", "selectors", "threading", "queue", "_thread", "time"}
    assert r.stdout.splitlines()[0] == str(sorted(everything - unpatched))


def test_tfpython_no_patch_whole():
    for value in ("1", "yes", "ALL"):
        r = run_tfpython(PROBE, env={"TFPYTHON_NO_PATCH": value})
        assert r.returncode == 0, r.stderr
        assert r.stdout.splitlines()[0] == "[]"


def test_tfpython_no_patch_unknown_module_is_a_clear_error():
    r = run_tfpython("print('ran')", env={"TFPYTHON_NO_PATCH": "socket,sockets"})
    assert r.returncode == 1
    assert "ran" not in r.stdout
    assert "TFPYTHON_NO_PATCH: no patch for module 'sockets'" in r.stderr
    assert "Traceback" not in r.stderr


def test_patch_all_refuses_unknown_names(in_hub):
    from theframework import monkey
    with pytest.raises(TypeError, match="'sockets'"):
        monkey.patch_all(sockets=False)
