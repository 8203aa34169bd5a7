"""The engine under the hub: io_uring where the system gives a ring, epoll
where it refuses one (a container's seccomp profile, kernel.io_uring_disabled),
TFPYTHON_BACKEND to force either. The refusal is made real here as Docker
and podman make it: a seccomp filter, installed in the child before it
execs tfpython, that fails io_uring_setup with EPERM (or ENOSYS).
"""
import ctypes
import struct
import sys

import pytest

import theframework
from conftest import PYTHON, run_tfpython

# A program that touches every kind of wait: threads on sockets (a blocking
# listener's accept, recv, sendall), sleeps, select on a pipe, a subprocess
# (pipes, waitpid), a lock with a timeout, a queue. Its output is the same
# wherever it runs.
EVERYDAY_PROGRAM = r"""
import os, queue, select, socket, subprocess, sys, threading, time

def serve(listener):
    while True:
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        threading.Thread(target=echo, args=(conn,), daemon=True).start()

def echo(conn):
    with conn:
        while data := conn.recv(4096):
            conn.sendall(data.upper())

listener = socket.create_server(("127.0.0.1", 0))
threading.Thread(target=serve, args=(listener,), daemon=True).start()
replies = []
def client(i):
    with socket.create_connection(listener.getsockname()) as c:
        for n in range(20):
            c.sendall(b"message %d from %d " % (n, i) * 50)
            want = len(b"message %d from %d " % (n, i) * 50)
            got = b""
            while len(got) < want:
                got += c.recv(65536)
        replies.append(got[:20])
clients = [threading.Thread(target=client, args=(i,)) for i in range(30)]
for t in clients: t.start()
for t in clients: t.join()
print("echo:", len(replies), sorted(replies)[0])

order = []
sleepers = [threading.Thread(target=lambda d=d: (time.sleep(d), order.append(d))) for d in (0.15, 0.05, 0.1)]
for t in sleepers: t.start()
for t in sleepers: t.join()
print("sleep order:", order)

r, w = os.pipe()
threading.Timer(0.02, os.write, (w, b"x")).start()
print("select:", select.select([r], [], [], 5)[0] == [r])

print("subprocess:", subprocess.check_output([sys.executable, "-c", "print('child says hi')"]).decode().strip())

lock = threading.Lock()
lock.acquire()
t0 = time.monotonic()
print("lock timeout:", lock.acquire(timeout=0.05), time.monotonic() - t0 >= 0.05)

q = queue.Queue()
threading.Thread(target=lambda: (time.sleep(0.01), q.put("queued"))).start()
print("queue:", q.get(timeout=5))
listener.close()
"""

PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
SECCOMP_RET_ALLOW = 0x7FFF0000
SECCOMP_RET_ERRNO = 0x00050000
AUDIT_ARCH_X86_64 = 0xC000003E
NR_IO_URING_SETUP = 425  # x86-64
BPF_LD_W_ABS, BPF_JEQ_K, BPF_RET_K = 0x20, 0x15, 0x06


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def refusing_io_uring(errno):
    """A preexec_fn: from there on io_uring_setup fails with `errno`."""
    def insn(code, k, jt=0, jf=0):
        return struct.pack("HBBI", code, jt, jf, k)
    program = b"".join([
        insn(BPF_LD_W_ABS, 4),                               # seccomp_data.arch
        insn(BPF_JEQ_K, AUDIT_ARCH_X86_64, jt=1, jf=0),
        insn(BPF_RET_K, SECCOMP_RET_ALLOW),
        insn(BPF_LD_W_ABS, 0),                               # seccomp_data.nr
        insn(BPF_JEQ_K, NR_IO_URING_SETUP, jt=0, jf=1),
        insn(BPF_RET_K, SECCOMP_RET_ERRNO | errno),
        insn(BPF_RET_K, SECCOMP_RET_ALLOW),
    ])

    def install():
        libc = ctypes.CDLL(None, use_errno=True)
        buf = ctypes.create_string_buffer(program)
        fprog = _SockFprog(len(program) // 8, ctypes.cast(buf, ctypes.c_void_p))
        if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 or \
                libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "seccomp filter refused")
    return install


def ring_refused(errno, code, **kw):
    env = dict(kw.pop("env", {}) or {})
    env.setdefault("TFPYTHON_BACKEND", "")
    return run_tfpython(code, preexec_fn=refusing_io_uring(errno), env=env, **kw)


def io_uring_allowed():
    return run_tfpython("pass", env={"TFPYTHON_BACKEND": "io_uring"}).returncode == 0


def test_backend_names_the_engine_under_this_hub(in_hub):
    import os
    import _framework_core
    name = theframework.backend()
    assert name in ("io_uring", "epoll")
    assert _framework_core.backend() == name
    if os.environ.get("TFPYTHON_BACKEND"):  # this suite's run on a forced engine
        assert name == os.environ["TFPYTHON_BACKEND"]


@pytest.mark.parametrize("forced", ["io_uring", "epoll"])
def test_tfpython_backend_forces_an_engine(forced):
    if forced == "io_uring" and not io_uring_allowed():
        pytest.skip("this system refuses io_uring (a container's seccomp profile?)")
    r = run_tfpython("import theframework; print(theframework.backend())", env={"TFPYTHON_BACKEND": forced})
    assert r.returncode == 0, r.stderr
    assert r.stdout == forced + "\n"


def test_io_uring_where_the_system_gives_a_ring():
    if not io_uring_allowed():
        pytest.skip("this system refuses io_uring (a container's seccomp profile?)")
    r = run_tfpython("import theframework; print(theframework.backend())", env={"TFPYTHON_BACKEND": ""})
    assert r.returncode == 0, r.stderr
    assert r.stdout == "io_uring\n"  # this machine kind allows io_uring


@pytest.mark.parametrize("errno", [1, 38], ids=["EPERM", "ENOSYS"])
def test_a_refused_ring_runs_the_program_on_epoll_with_the_same_output(errno):
    reference = run_tfpython(EVERYDAY_PROGRAM, env={"TFPYTHON_BACKEND": ""}, timeout=120)
    python3 = __import__("subprocess").run([PYTHON, "-c", EVERYDAY_PROGRAM], capture_output=True, text=True,
                                           timeout=120)
    refused = ring_refused(errno, EVERYDAY_PROGRAM + "import theframework; print(theframework.backend())",
                           timeout=120)
    assert reference.returncode == 0 and reference.stderr == "", reference.stderr
    assert refused.returncode == 0, refused.stderr
    assert refused.stderr == ""
    assert refused.stdout == reference.stdout + "epoll\n"
    assert reference.stdout == python3.stdout
    assert "echo: 30" in refused.stdout


def test_the_fallback_is_silent_and_theframework_says_epoll():
    r = ring_refused(1, "import theframework, time; time.sleep(0.01); print(theframework.backend())")
    assert (r.returncode, r.stdout, r.stderr) == (0, "epoll\n", "")


def test_a_forced_io_uring_the_system_refuses_ends_with_one_line_and_status_1():
    r = ring_refused(1, "print('never')", env={"TFPYTHON_BACKEND": "io_uring"})
    assert r.returncode == 1
    assert r.stdout == ""
    lines = r.stderr.splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("tfpython: TFPYTHON_BACKEND=io_uring, but this system refuses io_uring")
    assert "Operation not permitted" in lines[0] and "TFPYTHON_BACKEND=epoll" in lines[0]


def test_a_bad_tfpython_backend_ends_with_one_line_and_status_1():
    r = run_tfpython("print('never')", env={"TFPYTHON_BACKEND": "uring"})
    assert (r.returncode, r.stdout) == (1, "")
    assert r.stderr == "tfpython: TFPYTHON_BACKEND must be io_uring, epoll or auto, not 'uring'\n"


def test_threads_started_by_a_real_os_thread_hub_use_the_same_engine():
    # A hub on another OS thread (theframework.run there) makes its own
    # engine; a refused ring is remembered for the process.
    code = """
import threading, theframework, time
from theframework.monkey import get_original
names = []
def body():
    time.sleep(0.01)
    names.append(theframework.backend())
t = get_original("threading", "Thread")(target=lambda: theframework.run(body))
t.start(); t.join()
print(theframework.backend(), names)
"""
    r = ring_refused(1, code)
    assert (r.returncode, r.stderr) == (0, ""), r.stderr
    assert r.stdout == "epoll ['epoll']\n"


def test_sockets_closed_and_renumbered_keep_working(in_hub):
    # The epoll engine keeps a socket's registration across waits; a socket
    # closed (or collected) and its number given to a new one must not
    # inherit it. Many rounds of open, wait, drop, on whichever engine runs.
    import gc
    import socket
    for round in range(200):
        a, b = socket.socketpair()
        theframework.spawn(lambda b=b: (theframework.sleep(0.001), b.send(b"x")))
        assert a.recv(1) == b"x"
        if round % 2:
            a.close()
            b.close()
        else:
            del a, b
            gc.collect()


@pytest.mark.skipif(sys.platform != "linux", reason="Linux only")
def test_everyday_program_under_forced_epoll_matches_python3():
    python3 = __import__("subprocess").run([PYTHON, "-c", EVERYDAY_PROGRAM], capture_output=True, text=True,
                                           timeout=120)
    r = run_tfpython(EVERYDAY_PROGRAM, env={"TFPYTHON_BACKEND": "epoll"}, timeout=120)
    assert (r.returncode, r.stderr) == (0, "")
    assert r.stdout == python3.stdout


NO_FD_LEFT = r"""
import os, resource, time
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (64, hard))
fds = []
try:
    while True:
        fds.append(os.open("/dev/null", os.O_RDONLY))
except OSError as e:
    print("filled:", e.errno)
try:
    time.sleep(0.01)
    print("sleep: ok")
except OSError as e:
    print("sleep:", e)
for fd in fds:
    os.close(fd)
time.sleep(0.01)
import theframework
print("then:", theframework.backend())
"""


@pytest.mark.parametrize("backend", ["", "epoll"])
def test_no_fd_left_for_the_engine_is_an_oserror_then_it_works(backend):
    # The engine is made on the first wait; with every fd taken that wait
    # raises python3's EMFILE error (nothing aborts), and once fds are free
    # again the next wait makes it.
    r = run_tfpython(NO_FD_LEFT, env={"TFPYTHON_BACKEND": backend})
    assert (r.returncode, r.stderr) == (0, ""), r.stderr
    lines = r.stdout.splitlines()
    assert lines[:2] == ["filled: 24", "sleep: [Errno 24] Too many open files"]
    assert lines[2] in ("then: io_uring", "then: epoll")
    if backend:
        assert lines[2] == "then: " + backend


def test_the_seccomp_profile_for_docker_allows_io_uring_and_denies_by_default():
    import json
    import os
    path = os.path.join(os.path.dirname(__file__), "..", "..", "packaging", "seccomp-io_uring.json")
    with open(path) as f:
        profile = json.load(f)
    assert profile["defaultAction"] == "SCMP_ACT_ERRNO"
    allowed = {name for rule in profile["syscalls"] if rule["action"] == "SCMP_ACT_ALLOW" and
               not rule.get("args") and not rule.get("includes") for name in rule["names"]}
    assert {"io_uring_setup", "io_uring_enter", "io_uring_register"} <= allowed
    # What the epoll engine and the rest of tfpython need stays allowed too.
    assert {"epoll_create1", "epoll_ctl", "epoll_pwait2", "eventfd2", "accept4", "pidfd_open",
            "signalfd4", "prctl"} <= allowed
