"""io.open of a pipe fd (subprocess's pipes, os.fdopen) waits on the hub:
a thread reading a pipe does not block the thread that feeds it."""
import io
import os
import subprocess
import sys
import threading
import time

import pytest

from conftest import run_tfpython


def test_a_thread_reading_a_popen_pipe_lets_main_write(in_hub):
    p = subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert type(p.stdout) is io.BufferedReader and isinstance(p.stdout.raw, io.FileIO)
    assert type(p.stdout.raw) is io.FileIO  # python3's own class, cooperative in place
    lines = []
    t = threading.Thread(target=lambda: lines.extend(p.stdout))
    t.start()
    for i in range(3):
        p.stdin.write(b"line %d\n" % i)
        p.stdin.flush()
        time.sleep(0.01)
    p.stdin.close()
    t.join(10)
    assert p.wait(10) == 0
    assert lines == [b"line 0\n", b"line 1\n", b"line 2\n"]


def test_fdopen_text_and_binary_layers_are_ios(in_hub):
    r, w = os.pipe()
    reader = os.fdopen(r, "r")
    writer = os.fdopen(w, "wb", 0)
    assert type(reader) is io.TextIOWrapper and reader.mode == "r"
    assert type(reader.buffer) is io.BufferedReader
    assert repr(writer).startswith("<_io.FileIO name=%d mode='wb' closefd=True>" % w)
    got = []
    t = threading.Thread(target=lambda: got.append(reader.readline()))
    t.start()
    time.sleep(0.02)
    assert got == []  # the reader waits, the main thread runs
    assert writer.write(b"x" * 100000 + b"\n") == 100001  # more than a pipe holds, written whole
    t.join(10)
    assert got == ["x" * 100000 + "\n"]
    writer.close()
    assert reader.read() == ""
    reader.close()


def test_regular_files_and_odd_arguments_are_untouched(in_hub, tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"abc")
    fd = os.open(path, os.O_RDONLY)
    with io.open(fd, "rb") as f:
        assert type(f.raw) is io.FileIO and f.read() == b"abc"
    r, w = os.pipe()
    with pytest.raises(ValueError, match="invalid mode"):
        io.open(r, "rq")
    with pytest.warns(RuntimeWarning, match="line buffering"):
        f = io.open(w, "wb", 1)
    assert type(f.raw) is io.FileIO  # binary line buffering: the original, with its warning
    f.close()
    os.close(r)


def test_pytest_xdist_runs_a_small_suite(tmp_path):
    pytest.importorskip("xdist")
    (tmp_path / "test_small.py").write_text(
        "import threading, time\n"
        "import pytest\n"
        "@pytest.mark.parametrize('n', range(6))\n"
        "def test_n(n):\n"
        "    time.sleep(0.01)\n"
        "def test_thread():\n"
        "    out = []\n"
        "    t = threading.Thread(target=lambda: out.append(1)); t.start(); t.join()\n"
        "    assert out == [1]\n")
    r = run_tfpython(None, "-m", "pytest", "-n", "2", "-q", "-p", "no:cacheprovider", str(tmp_path),
                     flags=(), timeout=120, cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "7 passed" in r.stdout
