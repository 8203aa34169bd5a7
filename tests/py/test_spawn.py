"""Spawned tasks (greenlets): spawn and join, errors in a child, kill, the
handle's own attributes, collection, and a Pool bounding how many run."""
import os
import time

import pytest

import _framework_core as core
import theframework as tf
from conftest import run_tfpython


def test_spawn_join_value_and_dead(in_hub):
    g = tf.spawn(lambda a, b=0: a + b, 2, b=3)
    assert not g.dead
    assert g.join(5)
    assert g.dead and g.value == 5 and g.exception is None and g.successful()


def test_exception_in_child_is_reported_and_the_program_goes_on():
    r = run_tfpython("""
        import theframework as tf
        def boom():
            raise ValueError("child failed")
        g = tf.spawn(boom)
        g.join()
        print("still here", type(g.exception).__name__)
    """)
    assert r.returncode == 0
    assert r.stdout == "still here ValueError\n"
    assert "Exception in greenlet" in r.stderr and "ValueError: child failed" in r.stderr


def test_exception_in_raw_child_greenlet_does_not_stop_the_hub():
    r = run_tfpython("""
        import _framework_core as core, time
        core.spawn_raw(lambda: 1 / 0)
        time.sleep(0.01)
        print("alive")
    """)
    assert r.returncode == 0 and r.stdout == "alive\n"
    assert "ZeroDivisionError" in r.stderr


def test_kill_raises_in_the_waiting_greenlet_and_cancels_its_wait(in_hub):
    r, w = os.pipe()
    try:
        def reader():
            core.wait_readable(r)
            return "woke"
        g = tf.spawn(reader)
        time.sleep(0.01)
        g.kill()
        assert g.dead and isinstance(g.value, tf.GreenletExit)
        # The cancelled poll must not swallow a later readiness.
        os.write(w, b"x")
        assert core.wait_readable(r, 1.0)
    finally:
        os.close(r)
        os.close(w)


def test_kill_before_start_never_runs(in_hub):
    ran = []
    g = tf.spawn(ran.append, 1)
    g.kill()
    time.sleep(0)
    assert g.dead and ran == []


def test_greenlet_handles_take_user_attributes(in_hub):
    g = tf.spawn(time.sleep, 0)
    g.tag = "user data"  # greenlets still take attributes of their own
    g.join()
    assert g.tag == "user data" and g.dead and g.value is None


def test_queued_greenlets_are_collected_in_cycles_once_started(in_hub):
    # spawn() leaves a queued greenlet out of the cycle collector's sight
    # (the hub holds it); once started it is tracked again, so a cycle
    # through a finished greenlet is still collected.
    import gc
    import weakref

    class Box:
        pass

    def body(box):
        box.me = greenlet_ref[0]
        return box  # cycle: greenlet.value -> box -> greenlet

    box = Box()
    greenlet_ref = [None]
    g = tf.spawn(body, box)
    greenlet_ref[0] = g
    assert not gc.is_tracked(g)
    g.join()
    assert gc.is_tracked(g)
    dead = weakref.ref(box)
    del g, box, greenlet_ref[0]
    gc.collect()
    assert dead() is None


def test_pool_bounds_concurrency(in_hub):
    pool = tf.Pool(3)
    running = [0]
    peak = [0]

    def job(i):
        running[0] += 1
        peak[0] = max(peak[0], running[0])
        time.sleep(0.005)
        running[0] -= 1
        return i * i
    assert pool.map(job, range(10)) == [i * i for i in range(10)]
    assert peak[0] == 3


def test_run_current_task_refuses_a_plain_greenlet(in_hub):
    # It reads a Greenlet's slots by offset: anything else is a TypeError,
    # never a read past the object.
    import greenlet
    with pytest.raises(TypeError, match="only in a theframework Greenlet"):
        core.run_current_task()
    g = greenlet.greenlet(core.run_current_task)
    with pytest.raises(TypeError, match="only in a theframework Greenlet"):
        g.switch()
