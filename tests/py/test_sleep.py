"""time.sleep: greenlets take turns while one sleeps, sleep(0) yields,
python3's errors for bad input, and a real sleep outside the hub."""
import subprocess
import time

import pytest

import theframework as tf
from conftest import PYTHON, run_tfpython


def test_greenlets_interleave_on_sleep(in_hub):
    order = []

    def worker(name, delay):
        time.sleep(delay)
        order.append(name)
    gs = [tf.spawn(worker, "slow", 0.05), tf.spawn(worker, "fast", 0.01), tf.spawn(worker, "now", 0)]
    tf.joinall(gs)
    assert order == ["now", "fast", "slow"]


def test_sleep_zero_yields_to_every_ready_greenlet_once(in_hub):
    trace = []

    def worker(name):
        for i in range(3):
            trace.append((name, i))
            time.sleep(0)
    gs = [tf.spawn(worker, n) for n in "ab"]
    tf.joinall(gs)
    assert trace == [("a", 0), ("b", 0), ("a", 1), ("b", 1), ("a", 2), ("b", 2)]


@pytest.mark.parametrize("arg", ["-1", "float('nan')", "'x'", "None", "float('inf')", "10**100", "b'1'"])
def test_time_sleep_bad_input_matches_python3(arg):
    code = "import time\ntry:\n    time.sleep(%s)\nexcept Exception as e:\n    print(type(e).__name__, e)\n" % arg
    ours = run_tfpython(code)
    theirs = subprocess.run([PYTHON, "-c", code], capture_output=True, text=True)
    assert ours.stdout == theirs.stdout and ours.stdout


def test_blocking_fallback_outside_the_hub():
    r = run_tfpython("""
        import time, _framework_core as core
        from theframework.monkey import get_original
        out = []
        lock = get_original("_thread", "allocate_lock")(); lock.acquire()
        def t():
            out.append(core.hub_is_running())
            t0 = time.monotonic(); time.sleep(0.02); out.append(time.monotonic() - t0 >= 0.015)
            lock.release()
        get_original("_thread", "start_new_thread")(t, ())
        lock.acquire()
        print(out)
    """)
    assert r.stdout == "[False, True]\n", r.stderr
