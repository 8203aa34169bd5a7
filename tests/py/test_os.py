"""os under the hub (monkey/os.py, cooperative_os.py): os.write on pipes,
the wait family (waitpid, wait, wait3, wait4) and os.system wait on the
hub, with python3's results and errors."""
import json
import os
import subprocess

import pytest

from conftest import MAX_TICK_GAP, PYTHON, TICKER, run_tfpython


def test_os_write_to_a_read_end_fails_at_once_like_python3(in_hub):
    r, w = os.pipe()
    try:
        with pytest.raises(OSError) as err:
            os.write(r, b"x")
        assert err.value.errno == 9  # EBADF, not a wait that never ends
    finally:
        os.close(r)
        os.close(w)


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
