"""Waiting for real OS threads from the hub: joining one (threading's
original Thread), and under TFPYTHON_PATCH_THREADS=0 every threading wait
(Lock, Condition, Event, queue, join) parks the greenlet instead of
freezing the hub; results as python3's."""
import json

import pytest

from conftest import MAX_TICK_GAP, TICKER, run_tfpython

WAITS = {
    "join": "t = T(target=time.sleep, args=(0.3,)); t.start(); t.join(); result = t.is_alive()",
    "join-timeout": "t = T(target=time.sleep, args=(0.5,)); t.start(); t.join(0.3); result = t.is_alive(); t.join()",
    "event": "ev = threading.Event(); T(target=lambda: (time.sleep(0.3), ev.set())).start(); result = ev.wait()",
    "queue": "q = queue.Queue(); T(target=lambda: (time.sleep(0.3), q.put(5))).start(); result = q.get()",
    "lock": "l = threading.Lock(); l.acquire(); T(target=lambda: (time.sleep(0.3), l.release())).start(); "
            "result = l.acquire()",
    "condition": "c = threading.Condition()\n"
                 "def notify():\n    time.sleep(0.3)\n    with c:\n        c.notify()\n"
                 "T(target=notify).start()\nwith c:\n    result = c.wait(5)",
}
EXPECTED = {"join": False, "join-timeout": True, "event": True, "queue": 5, "lock": True, "condition": True}


@pytest.mark.parametrize("patch_threads", ["1", "0"])
@pytest.mark.parametrize("wait", list(WAITS))
def test_waiting_for_an_os_thread_keeps_the_hub_running(wait, patch_threads):
    if patch_threads == "1" and wait not in ("join", "join-timeout"):
        pytest.skip("threads are fibers: their waits are covered by test_threading.py")
    r = run_tfpython(TICKER + f"""
import json, queue, threading, time
import _framework_core
from theframework.monkey import get_original
T = get_original("threading", "Thread")
assert _framework_core.hub_is_running()
ticker_start()
{WAITS[wait]}
print(json.dumps([result, ticker_stop()]))
""", env={"TFPYTHON_PATCH_THREADS": patch_threads})
    assert r.returncode == 0, r.stderr
    result, (ticks, gap) = json.loads(r.stdout.splitlines()[-1])
    assert result == EXPECTED[wait]
    assert ticks >= 10 and gap <= MAX_TICK_GAP, (ticks, gap)


def test_os_threads_stay_os_threads_with_patch_threads_0():
    r = run_tfpython("""
import threading, _thread
seen = []
t = threading.Thread(target=lambda: seen.append(threading.get_native_id()))
t.start(); t.join()
print(seen[0] != threading.get_native_id(), threading.get_ident() == threading.main_thread().ident)
rl = threading.RLock()
with rl:
    with rl:
        print(rl._is_owned())
""", env={"TFPYTHON_PATCH_THREADS": "0"})
    assert r.stdout == "True True\nTrue\n", r.stderr


def test_a_join_given_up_leaves_the_thread_joinable():
    r = run_tfpython("""
import time
import theframework as tf
from theframework.monkey import get_original
t = get_original("threading", "Thread")(target=time.sleep, args=(0.4,))
t.start()
try:
    with tf.Timeout(0.1):
        t.join()
except tf.Timeout:
    print("gave up")
time.sleep(0.5)  # the pool thread gets the lock meanwhile, and gives it back
t.join()
print("joined", t.is_alive())
""")
    assert r.stdout == "gave up\njoined False\n", r.stderr
