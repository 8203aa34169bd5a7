"""One tfpython per core on one port (README.md, "Every core"):
examples/every_core/server.py (SO_REUSEPORT workers, or forked workers
sharing one socket) and gunicorn's pre-fork workers with -k gthread.

Each test starts the server with 2 workers in its own session, makes
requests on fresh connections until two distinct worker pids answered,
checks that every answer came from a child of the server running inside
tfpython's hub, then stops the server with a signal and checks that no
process of its session is left.
"""
import http.client
import json
import os
import signal
import socket
import subprocess
import time

import pytest

from conftest import PYTHON, TFPYTHON

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLE = os.path.join(ROOT, "examples", "every_core")


def session_pids(sid):
    """Every live (non-zombie) process whose session is `sid`."""
    pids = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # fields[0] is field 3 (state), fields[3] field 6 (session).
        if int(fields[3]) == sid and fields[0] != "Z":
            pids.append(int(name))
    return pids


def parent_of(pid):
    with open("/proc/%d/stat" % pid) as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


def get(port):
    """One GET on a fresh connection: the worker's JSON answer."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/")
        response = conn.getresponse()
        assert response.status == 200
        return json.loads(response.read())
    finally:
        conn.close()


def wait_listening(port, proc, deadline):
    while time.monotonic() < deadline:
        assert proc.poll() is None, "server exited: %s" % proc.stderr.read()
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("server did not listen on %d" % port)


def two_workers(proc, port, hub=True):
    """Requests until 2 worker pids answered; returns the answers."""
    answers = []
    while len({a["pid"] for a in answers}) < 2 and len(answers) < 400:
        answers.append(get(port))
    pids = {a["pid"] for a in answers}
    assert len(pids) == 2, "only %s answered %d requests" % (pids, len(answers))
    assert all(a["hub"] is hub for a in answers), answers
    for pid in pids:
        assert pid != proc.pid
        # gunicorn's workers and server.py's are the server's children
        assert parent_of(pid) == proc.pid
    return answers


def stop(proc, signum):
    """Signal the server; it must exit by itself and leave nothing behind."""
    proc.send_signal(signum)
    try:
        rc = proc.wait(timeout=20)
    finally:
        left = session_pids(proc.pid)
        for pid in left:
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while session_pids(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not left, "processes left behind: %s" % left
    return rc


def start_example(interp, mode):
    proc = subprocess.Popen([interp, os.path.join(EXAMPLE, "server.py"), "--workers", "2",
                             "--port", "0", "--mode", mode],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    line = proc.stdout.readline()
    if not line:
        proc.wait(timeout=10)
        raise AssertionError("server did not start: %s" % proc.stderr.read())
    word, port, workers = line.split()
    assert (word, workers) == ("listening", "2")
    return proc, int(port)


@pytest.mark.parametrize("mode,signum", [("reuseport", signal.SIGTERM), ("reuseport", signal.SIGINT),
                                         ("fork", signal.SIGTERM), ("fork", signal.SIGINT)])
def test_example_two_workers_on_the_hub(mode, signum):
    proc, port = start_example(TFPYTHON, mode)
    try:
        answers = two_workers(proc, port)
        assert {a["backend"] for a in answers} <= {"io_uring", "epoll"}
        # keep-alive: one connection stays with one worker
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        seen = set()
        for _ in range(5):
            conn.request("GET", "/again")
            seen.add(json.loads(conn.getresponse().read())["pid"])
        conn.close()
        assert len(seen) == 1
    finally:
        rc = stop(proc, signum)
    assert rc == 0, proc.stderr.read()


def test_example_workers_follow_a_killed_parent():
    """SIGKILL to the parent: the workers see their pipe to it close and exit."""
    proc, port = start_example(TFPYTHON, "reuseport")
    try:
        two_workers(proc, port)
        proc.kill()
        proc.wait(timeout=10)
        deadline = time.monotonic() + 10
        while session_pids(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not session_pids(proc.pid)
    finally:
        for pid in session_pids(proc.pid):
            os.kill(pid, signal.SIGKILL)


def test_example_runs_unchanged_under_python3():
    proc, port = start_example(PYTHON, "reuseport")
    try:
        two_workers(proc, port, hub=False)
    finally:
        rc = stop(proc, signal.SIGTERM)
    assert rc == 0, proc.stderr.read()


def test_gunicorn_gthread_two_workers():
    """tfpython -m gunicorn -k gthread -w 2: both pre-forked workers serve,
    each on its own hub; SIGTERM to the arbiter stops them all."""
    probe = subprocess.run([TFPYTHON, "-c", "import gunicorn"], capture_output=True)
    if probe.returncode:
        pytest.skip("gunicorn is not installed (packaging/install-deps.sh --matrix)")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([TFPYTHON, "-m", "gunicorn", "-k", "gthread", "--threads", "8", "-w", "2",
                             "-b", "127.0.0.1:%d" % port, "--chdir", EXAMPLE, "wsgi_app:app"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        wait_listening(port, proc, time.monotonic() + 30)
        two_workers(proc, port)
    finally:
        rc = stop(proc, signal.SIGTERM)
    assert rc == 0, proc.stderr.read()
