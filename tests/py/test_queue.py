"""queue.SimpleQueue: cooperative and reentrant, as python3's C one is."""
import gc
import itertools
import queue
import threading
import time

import pytest

import theframework as tf
from conftest import run_tfpython


def test_put_from_a_finalizer_inside_put_and_get(in_hub):
    # CPython's test_queue.CSimpleQueueTest.test_reentrancy, with the
    # collector made to run at almost every allocation: finalizers put()
    # inside put() and get(). The standard library's _PySimpleQueue waits
    # for ever there (its put() takes a lock); before the frame object was
    # made ahead of each switch, the hub crashed instead.
    q = queue.SimpleQueue()
    gen = itertools.count()
    results = []

    class Circular:
        def __init__(self):
            self.circular = self

        def __del__(self):
            q.put(next(gen))

    old = gc.get_threshold()
    gc.set_threshold(3, 1, 1)
    try:
        while True:
            o = Circular()
            q.put(next(gen))
            del o
            results.append(q.get())
            if results[-1] >= 5000:
                break
    finally:
        gc.set_threshold(*old)
    assert results == list(range(5001))


def test_a_finalizer_that_waits_during_a_switch_does_not_crash_the_hub():
    # A __del__ run by a collection that starts inside the hub's switch
    # (greenlet makes a frame object there) and then waits for a lock held
    # elsewhere: it waits like any other code.
    r = run_tfpython("""
        import gc, threading, time
        lock = threading.Lock()
        done = []
        class Waits:
            def __init__(self): self.me = self
            def __del__(self):
                with lock:
                    done.append(1)
        def holder():
            with lock:
                time.sleep(0.05)
        threading.Thread(target=holder).start()
        gc.set_threshold(1, 1, 1)
        for _ in range(200):
            Waits()
            time.sleep(0)
        gc.set_threshold(700, 10, 10)
        gc.collect()
        print("finalizers ran", len(done) > 0)
    """, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "finalizers ran True\n"


def test_get_waits_on_the_hub_and_times_out(in_hub):
    q = queue.SimpleQueue()
    ticks = []
    threading.Thread(target=lambda: [ticks.append(1) or time.sleep(0.005) for _ in range(10)],
                     daemon=True).start()
    t0 = time.monotonic()
    with pytest.raises(queue.Empty):
        q.get(timeout=0.05)
    assert 0.04 < time.monotonic() - t0 < 2
    assert ticks  # other threads ran during the wait
    threading.Thread(target=lambda: (time.sleep(0.01), q.put("x"))).start()
    assert q.get() == "x"
    with pytest.raises(queue.Empty):
        q.get(block=False)
    with pytest.raises(queue.Empty):
        q.get_nowait()
    with pytest.raises(ValueError, match="'timeout' must be a non-negative number"):
        q.get(timeout=-1)
    q.put_nowait(1)
    q.put(2, block=False, timeout=-5)  # put ignores both, as python3's does
    assert (q.qsize(), q.empty()) == (2, False)
    assert [q.get(), q.get(timeout=0)] == [1, 2]
    assert q.empty()


def test_getters_are_woken_in_order_and_a_killed_one_leaves_no_trace(in_hub):
    q = queue.SimpleQueue()
    got = []
    getters = [tf.spawn(lambda i=i: got.append((i, q.get()))) for i in range(3)]
    time.sleep(0.01)  # all three wait, in order
    for item in "ab":
        q.put(item)
    time.sleep(0.01)
    assert got == [(0, "a"), (1, "b")]
    # A getter killed while it waits takes its lock off the list: the next
    # put() wakes the one behind it.
    q2 = queue.SimpleQueue()
    second = []
    first = tf.spawn(q2.get)
    tf.spawn(lambda: second.append(q2.get()))
    time.sleep(0.01)
    first.kill()
    q2.put("c")
    time.sleep(0.01)
    assert second == ["c"] and first.dead
    # Killed after a put() woke it, it still takes its item (the wait had
    # ended): nothing is stranded.
    first = tf.spawn(q2.get)
    time.sleep(0.01)
    q2.put("e")
    first.kill()
    time.sleep(0.01)
    assert first.value == "e" and q2.empty()
    q.put("d")
    tf.joinall(getters)
    assert got[-1] == (2, "d")


def test_simple_queue_class(in_hub):
    assert queue.SimpleQueue.__module__ == "queue"
    assert queue.SimpleQueue[int] is not None  # __class_getitem__
    q = queue.SimpleQueue()
    import weakref
    assert weakref.ref(q)() is q
