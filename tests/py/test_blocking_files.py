"""io.FileIO on pipes, FIFOs and ttys waits on the hub (subprocess,
os.popen, input() and sys.stdin at a pipe, sys.stdout to a full pipe), with
python3's results; regular files are read as before. Each case runs in a
tfpython process with a ticker greenlet: a frozen hub shows as a long gap."""
import json
import os
import subprocess
import sys

import pytest

from conftest import MAX_TICK_GAP, PYTHON, TICKER, run_tfpython


def run_with_ticker(body, **kw):
    """Runs TICKER + body (which prints json of its result and
    ticker_stop()) under tfpython; the decoded last line."""
    r = run_tfpython(TICKER + body, **kw)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.splitlines()[-1])


@pytest.mark.parametrize("call, expected", [
    ("subprocess.check_output(['sh', '-c', 'sleep 0.3; echo hi']).decode()", "hi\n"),
    ("subprocess.run(['sh', '-c', 'sleep 0.3; echo out; echo err >&2'], capture_output=True, text=True).stdout",
     "out\n"),
    ("subprocess.Popen(['sh', '-c', 'sleep 0.3; echo x'], stdout=subprocess.PIPE).stdout.read().decode()", "x\n"),
    ("os.popen('sleep 0.3; echo popen').read()", "popen\n"),
    ("subprocess.getoutput('sleep 0.3; echo g')", "g"),
])
def test_subprocess_pipes_wait_on_the_hub(call, expected):
    out = run_with_ticker(f"""
import json, os, subprocess
import _framework_core
assert _framework_core.hub_is_running()
ticker_start()
result = {call}
print(json.dumps([result, ticker_stop()]))
""")
    result, (ticks, gap) = out
    assert result == expected
    assert ticks >= 10 and gap <= MAX_TICK_GAP, (ticks, gap)


def _delayed_writer(lines, delay=0.3):
    """A python3 process writing `lines` to its stdout, `delay` s apart."""
    code = f"import sys, time\nfor l in {lines!r}:\n    time.sleep({delay}); sys.stdout.write(l); sys.stdout.flush()\n"
    return subprocess.Popen([PYTHON, "-c", code], stdout=subprocess.PIPE)


@pytest.mark.parametrize("read", ["input()", "sys.stdin.readline()", "sys.stdin.read()", "sys.stdin.buffer.read(3)"])
def test_stdin_at_a_pipe_waits_on_the_hub(read):
    writer = _delayed_writer(["abc\n", "def\n"])
    try:
        out = run_with_ticker(f"""
import json, sys
ticker_start()
result = {read}
print(json.dumps([result if isinstance(result, str) else result.decode(), ticker_stop()]))
""", stdin=writer.stdout)
    finally:
        writer.wait()
    expected = {"input()": "abc", "sys.stdin.readline()": "abc\n", "sys.stdin.read()": "abc\ndef\n",
                "sys.stdin.buffer.read(3)": "abc"}[read]
    result, (ticks, gap) = out
    assert result == expected
    assert ticks >= 10 and gap <= MAX_TICK_GAP, (ticks, gap)


def test_stdout_to_a_full_pipe_waits_on_the_hub():
    # The reader starts after 0.3 s: meanwhile 1 MiB fills the pipe (64 KiB).
    reader = f"import sys, time\ntime.sleep(0.3)\nprint(len(sys.stdin.buffer.read()))"
    code = TICKER + """
import sys
ticker_start()
sys.stdout.write("x" * (1 << 20))
sys.stdout.flush()
ticks, gap = ticker_stop()
print(ticks, gap, file=sys.stderr)
"""
    p = subprocess.Popen([os.environ.get("TFPYTHON") or sys.executable, "-c", code], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    r = subprocess.run([PYTHON, "-c", reader], stdin=p.stdout, capture_output=True, text=True, timeout=60)
    p.stdout.close()
    err = p.stderr.read().decode()
    assert p.wait(60) == 0, err
    assert r.stdout == f"{1 << 20}\n"
    ticks, gap = err.split()
    assert int(ticks) >= 10 and float(gap) <= MAX_TICK_GAP, err


def test_a_fifo_waits_on_the_hub(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    out = run_with_ticker(f"""
import json, os, threading, time
def write_later():
    time.sleep(0.3)
    with open({str(fifo)!r}, "w") as f:
        f.write("through the fifo")
fd = os.open({str(fifo)!r}, os.O_RDONLY | os.O_NONBLOCK)  # no writer yet: do not block the open
os.set_blocking(fd, True)
threading.Thread(target=write_later).start()
ticker_start()
with open(fd, "r") as f:
    data = f.read()
print(json.dumps([data, ticker_stop()]))
""")
    data, (ticks, gap) = out
    assert data == "through the fifo"
    assert ticks >= 10 and gap <= MAX_TICK_GAP, (ticks, gap)


def test_regular_files_and_non_blocking_pipes_behave_as_in_python3(tmp_path):
    code = f"""
import os
path = {str(tmp_path / 'f')!r}
with open(path, 'wb') as f:
    print(f.write(b'0123456789' * 1000), f.raw.write(b'abc'))
with open(path, 'rb', buffering=0) as f:
    print(len(f.read(5)), len(f.readall()), f.read(), f.readinto(bytearray(4)))
r, w = os.pipe()
os.set_blocking(r, False)
with open(r, 'rb', buffering=0) as f:
    print(f.read(10), f.readall())
    os.write(w, b'xyz'); os.close(w)
    print(f.readall())
with open(path, 'rb', buffering=0) as f:
    f.close()
    try:
        f.read()
    except ValueError as e:
        print(e)
r, w = os.pipe()
with open(w, 'rb', buffering=0, closefd=False) as f:
    try:
        f.read()
    except Exception as e:
        print(type(e).__name__, e)
"""
    ours = run_tfpython(code)
    theirs = subprocess.run([PYTHON, "-c", code], capture_output=True, text=True)
    assert ours.stdout == theirs.stdout and ours.returncode == 0, ours.stderr


def test_big_write_to_a_pipe_arrives_whole(in_hub):
    r, w = os.pipe()
    data = os.urandom(300_000)
    got = []
    import threading

    def read_all():
        with open(r, "rb") as f:
            got.append(f.read())
    t = threading.Thread(target=read_all)
    t.start()
    with open(w, "wb", buffering=0) as f:
        assert f.write(data) == len(data)
    t.join()
    assert got == [data]
