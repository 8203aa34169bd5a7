"""os under the hub (monkey/os.py, cooperative_os.py): os.read and os.write
on pipes, the wait family (waitpid, wait, wait3, wait4) and os.system wait
on the hub while other greenlets and threads run, with python3's results
and errors."""
import errno
import json
import os
import subprocess
import threading
import time

import pytest

import _framework_core as core
import theframework as tf
from conftest import MAX_TICK_GAP, PYTHON, TICKER, run_tfpython
from theframework.monkey import get_original


def assert_hub_kept_running(ticker):
    assert len(ticker.gaps) >= 10 and ticker.largest_gap <= MAX_TICK_GAP, ticker.gaps


def test_read_of_an_empty_pipe_waits_on_the_hub(ticker):
    r, w = os.pipe()
    writer = threading.Thread(target=lambda: (time.sleep(0.3), os.write(w, b"late")))
    writer.start()
    try:
        with ticker:
            assert os.read(r, 100) == b"late"
        assert_hub_kept_running(ticker)
    finally:
        writer.join(10)
        os.close(w)
    try:
        assert os.read(r, 100) == b""  # end of file, as python3
    finally:
        os.close(r)


def test_write_bigger_than_the_pipe_waits_on_the_hub_and_writes_everything(ticker):
    r, w = os.pipe()
    data = os.urandom(1 << 20)  # 16 times what the pipe holds
    got = []

    def reader():
        time.sleep(0.3)  # meanwhile the pipe is full and the write waits
        while chunk := os.read(r, 65536):
            got.append(chunk)
    t = threading.Thread(target=reader)
    t.start()
    try:
        with ticker:
            assert os.write(w, data) == len(data)  # python3's blocking write: all of it
        assert_hub_kept_running(ticker)
    finally:
        os.close(w)
        t.join(10)
        os.close(r)
    assert b"".join(got) == data


def test_a_write_waiting_on_a_full_pipe_gets_broken_pipe_when_the_reader_closes(in_hub):
    r, w = os.pipe()
    os.set_blocking(w, False)
    try:
        while True:
            os.write(w, b"x" * 65536)
    except BlockingIOError:
        pass
    os.set_blocking(w, True)

    def writer():
        try:
            return os.write(w, b"more")
        except OSError as e:
            return e
    try:
        g = tf.spawn(writer)
        time.sleep(0.05)
        assert not g.dead  # waiting for room while this greenlet runs
        os.close(r)
        assert g.join(5)
        assert type(g.value) is BrokenPipeError and g.value.errno == errno.EPIPE
    finally:
        os.close(w)


def test_os_write_to_a_read_end_fails_at_once_like_python3(in_hub):
    r, w = os.pipe()
    try:
        with pytest.raises(OSError) as err:
            os.write(r, b"x")
        assert err.value.errno == 9  # EBADF, not a wait that never ends
    finally:
        os.close(r)
        os.close(w)


def test_two_readers_of_one_byte_leave_the_hub_running(ticker):
    # Both wake on the same readiness; the one that finds the pipe empty
    # again waits again instead of blocking the hub in read().
    r, w = os.pipe()
    got = []
    readers = [tf.spawn(lambda: got.append(os.read(r, 100))) for _ in range(2)]
    time.sleep(0.05)
    late = get_original("threading", "Thread")(target=lambda: (get_original("time", "sleep")(0.5), os.write(w, b"y")))
    late.start()
    try:
        with ticker:
            os.write(w, b"x")
            time.sleep(0.3)
            assert got == [b"x"]
        assert_hub_kept_running(ticker)
        tf.joinall(readers, timeout=10)
        assert sorted(got) == [b"x", b"y"]
    finally:
        late.join(10)
        os.close(r)
        os.close(w)


# Every case under tfpython (inside the hub) and python3: the same lines.
OS_READ_WRITE = r"""
import array, errno, os

def show(label, fn):
    try:
        print(label, repr(fn()))
    except Exception as e:
        print(label, type(e).__name__, e)

r, w = os.pipe()
show("read of an object with fileno()", lambda: os.read(type("F", (), {"fileno": lambda self: r})(), 1))
show("write bytes", lambda: os.write(w, b"abc"))
show("write bytearray", lambda: os.write(w, bytearray(b"de")))
show("write array", lambda: os.write(w, array.array("i", [1, 2])))
show("write memoryview 2d", lambda: os.write(w, memoryview(bytes(6)).cast("B", (2, 3))))
show("write non-contiguous", lambda: os.write(w, memoryview(b"abcdef")[::2]))
show("write str", lambda: os.write(w, "text"))
show("write None", lambda: os.write(w, None))
show("write empty", lambda: os.write(w, b""))
show("read", lambda: os.read(r, 100))
show("read zero", lambda: os.read(r, 0))
show("read negative", lambda: os.read(r, -1))
show("read str length", lambda: os.read(r, "1"))
show("read float fd", lambda: os.read(1.5, 1))
show("read bad fd", lambda: os.read(9999, 1))
show("write bad fd", lambda: os.write(9999, b"x"))
show("write to read end", lambda: os.write(r, b"x"))
show("read from write end", lambda: os.read(w, 1))
show("read huge", lambda: os.read(r, 2 ** 63))
os.set_blocking(r, False)
show("non-blocking read of an empty pipe", lambda: os.read(r, 1))
os.set_blocking(w, False)
total = 0
try:
    while True:
        total += os.write(w, b"x" * 65536)
except BlockingIOError as e:
    print("filled", total, e.errno == errno.EAGAIN)
os.set_blocking(w, True)
show("write empty to a full pipe", lambda: os.write(w, b""))
os.set_blocking(r, True)
print("drained", len(os.read(r, 1 << 20)))
os.close(w)
show("read at EOF", lambda: os.read(r, 1))
os.close(r)
r, w = os.pipe()
os.close(r)
show("write with the reader gone", lambda: os.write(w, b"x"))
os.close(w)
"""


def test_read_and_write_results_and_errors_are_python3s():
    ours = run_tfpython("import _framework_core\nassert _framework_core.hub_is_running()\n" + OS_READ_WRITE)
    theirs = subprocess.run([PYTHON, "-c", OS_READ_WRITE], capture_output=True, text=True, timeout=60)
    assert ours.returncode == theirs.returncode == 0, ours.stderr + theirs.stderr
    assert ours.stdout == theirs.stdout


def test_a_real_os_thread_reads_with_python3s_blocking_read(in_hub):
    # Outside the hub the original read blocks that thread only.
    r, w = os.pipe()
    got = []
    t = get_original("threading", "Thread")(target=lambda: got.append((core.hub_is_running(), os.read(r, 10))))
    try:
        t.start()
        time.sleep(0.05)  # this greenlet runs while the thread blocks in read()
        assert got == []
        os.write(w, b"data")
        t.join(10)
        assert got == [(False, b"data")]
    finally:
        os.close(r)
        os.close(w)


def test_waitpid_of_one_child_waits_on_the_hub(ticker):
    pid = os.posix_spawn("/bin/sh", ["sh", "-c", "sleep 0.3; exit 3"], os.environ)
    with ticker:
        assert os.waitpid(pid, 0)[0] == pid
    assert_hub_kept_running(ticker)
    ended = os.posix_spawn("/bin/sh", ["sh", "-c", "exit 4"], os.environ)
    time.sleep(0.1)
    done, status = os.waitpid(ended, 0)  # already ended: reaped at once
    assert done == ended and os.waitstatus_to_exitcode(status) == 4


def test_waitpid_of_a_process_that_is_not_a_child_fails_at_once_as_python3(in_hub):
    # python3: ChildProcessError at once (a pidfd would wait for it to end).
    for pid in (os.getppid(), 1):
        t0 = time.monotonic()
        with tf.Timeout(5):
            with pytest.raises(ChildProcessError) as err:
                os.waitpid(pid, 0)
        assert err.value.errno == errno.ECHILD and time.monotonic() - t0 < 1


@pytest.mark.parametrize("call", [
    "os.system('sleep 0.3; exit 3')",
    "(subprocess.Popen(['sleep', '0.3']), os.wait()[1])[1]",
    "(subprocess.Popen(['sh', '-c', 'sleep 0.3; exit 5']), os.waitpid(-1, 0)[1])[1]",
    "(subprocess.Popen(['sh', '-c', 'sleep 0.3; exit 6']), os.waitpid(0, 0)[1])[1]",
    "(subprocess.Popen(['sh', '-c', 'sleep 0.3; exit 7']), os.wait3(0)[1])[1]",
    "(lambda p: os.wait4(p.pid, 0)[1])(subprocess.Popen(['sh', '-c', 'sleep 0.3; exit 8']))",
    "(lambda p: [os.waitpid(p.pid, os.WUNTRACED)[1], p.kill(), p.wait()][0])("
    "subprocess.Popen(['sh', '-c', 'sleep 0.3; kill -STOP $$']))",
])
def test_child_waits_keep_the_hub_running(call):
    r = run_tfpython(TICKER + f"""
import json, os, subprocess
ticker_start()
status = {call}
print(json.dumps([status, ticker_stop()]))
""")
    assert r.returncode == 0, r.stderr
    status, (ticks, gap) = json.loads(r.stdout.splitlines()[-1])
    plain = subprocess.run([PYTHON, "-c", f"import os, subprocess\nprint({call})"], capture_output=True, text=True)
    assert status == int(plain.stdout.split()[-1]) if plain.stdout else status
    assert ticks >= 10 and gap <= MAX_TICK_GAP, (ticks, gap)


def test_wait_family_errors_and_no_hang_are_python3s():
    code = """
import os
for call in ("os.wait()", "os.waitpid(-1, 0)", "os.wait3(0)", "os.wait4(-1, 0)", "os.waitpid(-1, os.WNOHANG)"):
    try:
        print(eval(call))
    except Exception as e:
        print(type(e).__name__, e)
pid = os.fork()
if pid == 0:
    os._exit(4)
first = os.waitpid(pid, os.WNOHANG)
print(first in ((0, 0), (pid, 1024)))
# A child that already exited was reaped just now (fast machines): nothing left for wait().
print(os.wait()[0] == pid if first == (0, 0) else True)
"""
    ours = run_tfpython(code)
    theirs = subprocess.run([PYTHON, "-c", code], capture_output=True, text=True)
    assert ours.stdout == theirs.stdout, ours.stderr


def test_os_system_output_status_and_errors_are_python3s():
    code = """
import os, sys
sys.stdout.flush()
print(os.system("echo from the shell; exit 2"))
print(os.system(b"true"), os.system(command="exit 1"))
for bad in ((), (1,), ("a\\0b",), ("x", "y")):
    try:
        os.system(*bad)
    except Exception as e:
        print(type(e).__name__, e)
events = []
sys.addaudithook(lambda name, args: name == "os.system" and events.append(args))
os.system("true")
print(events)
"""
    ours = run_tfpython(code)
    theirs = subprocess.run([PYTHON, "-c", code], capture_output=True, text=True)
    assert ours.stdout == theirs.stdout and ours.stderr == theirs.stderr
