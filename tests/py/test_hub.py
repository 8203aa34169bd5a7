"""The hub seen from Python: scheduling, waiting, timeouts, wake-ups from
other threads, errors in children, deadlocks, fork, per-thread hubs."""
import os
import subprocess
import sys
import time

import pytest

import _framework_core as core
import theframework as tf
from conftest import PYTHON, run_tfpython
from theframework.monkey import get_original


def real_thread(fn, *args):
    """Start fn on a real OS thread (the originals, whatever is patched)."""
    lock = get_original("_thread", "allocate_lock")()
    lock.acquire()

    def body():
        try:
            fn(*args)
        finally:
            lock.release()
    get_original("_thread", "start_new_thread")(body, ())
    return lock


def test_spawn_join_value_and_dead(in_hub):
    g = tf.spawn(lambda a, b=0: a + b, 2, b=3)
    assert not g.dead
    assert g.join(5)
    assert g.dead and g.value == 5 and g.exception is None and g.successful()


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


def test_event_wakes_all_waiters_and_times_out(in_hub):
    ev = tf.Event()
    got = []
    gs = [tf.spawn(lambda: got.append(ev.wait())) for _ in range(3)]
    time.sleep(0.01)
    assert got == []
    ev.set()
    tf.joinall(gs)
    assert got == [True, True, True]
    assert tf.Event().wait(0.01) is False


def test_timeout_interrupts_a_wait_and_cancels_the_operation(in_hub):
    r, w = os.pipe()
    try:
        t0 = time.monotonic()
        with pytest.raises(tf.Timeout):
            with tf.Timeout(0.05):
                core.wait_readable(r)
        assert time.monotonic() - t0 < 1
        os.write(w, b"x")
        assert core.wait_readable(r, 1.0)  # nothing left in flight swallowed it
        assert core.wait_writable(w, 1.0) is True
    finally:
        os.close(r)
        os.close(w)


def test_timeout_with_custom_exception_and_cancel(in_hub):
    with pytest.raises(KeyError):
        with tf.Timeout(0.01, KeyError("late")):
            time.sleep(1)
    with tf.Timeout(0.01) as t:
        pass
    assert not t.pending
    time.sleep(0.03)  # a cancelled timeout never fires


def test_wait_fd_timeout_returns_false(in_hub):
    r, w = os.pipe()
    try:
        assert core.wait_readable(r, 0.02) is False
    finally:
        os.close(r)
        os.close(w)


def test_call_soon_threadsafe_from_eight_threads_loses_nothing(in_hub):
    hub_id = tf.get_hub_id()
    done = tf.Event()
    calls = []

    def on_hub(i):
        calls.append(i)
        if len(calls) == 1000:
            done.set()

    def poster(base):
        for i in range(125):
            tf.call_soon_threadsafe(on_hub, base + i, hub_id=hub_id)
    locks = [real_thread(poster, t * 125) for t in range(8)]
    assert done.wait(10)
    for lock in locks:
        lock.acquire()
    assert sorted(calls) == list(range(1000))


def test_run_in_thread_does_not_block_the_hub(in_hub):
    ticks = []

    def ticker():
        for _ in range(5):
            ticks.append(time.monotonic())
            time.sleep(0.01)
    blocking_sleep = get_original("time", "sleep")
    g = tf.spawn(ticker)
    t0 = time.monotonic()
    assert tf.run_in_thread(lambda: (blocking_sleep(0.1), "slept")[1]) == "slept"
    assert time.monotonic() - t0 >= 0.09
    g.join()
    assert len(ticks) == 5 and ticks[-1] - ticks[0] < 0.09


def test_run_in_thread_reraises(in_hub):
    with pytest.raises(ZeroDivisionError):
        tf.run_in_thread(lambda: 1 / 0)


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


@pytest.mark.parametrize("arg", ["-1", "float('nan')", "'x'", "None", "float('inf')", "10**100", "b'1'"])
def test_time_sleep_bad_input_matches_python3(arg):
    code = "import time\ntry:\n    time.sleep(%s)\nexcept Exception as e:\n    print(type(e).__name__, e)\n" % arg
    ours = run_tfpython(code)
    theirs = subprocess.run([PYTHON, "-c", code], capture_output=True, text=True)
    assert ours.stdout == theirs.stdout and ours.stdout


def test_deadlock_is_reported_in_the_main_greenlet_when_asked():
    r = run_tfpython("""
        import theframework as tf
        tf.Event().wait()
    """, timeout=20, env={"TFPYTHON_REPORT_DEADLOCK": "1"})
    assert r.returncode == 1
    assert "DeadlockError: this operation would block forever" in r.stderr
    assert 'File "<string>", line 3, in <module>' in r.stderr


def test_no_deadlock_report_while_a_timer_is_pending():
    r = run_tfpython("""
        import theframework as tf
        ev = tf.Event()
        tf.spawn(lambda: (tf.sleep(0.05), ev.set()))
        print(ev.wait())
    """)
    assert r.stdout == "True\n", r.stderr


def test_fork_child_gets_a_fresh_hub_and_parent_is_unaffected():
    r = run_tfpython("""
        import os, time, theframework as tf
        g = tf.spawn(time.sleep, 0.2)     # a waiter the child must forget
        pid = os.fork()
        if pid == 0:
            t0 = time.monotonic()
            time.sleep(0.01)              # works on the child's own ring
            ev = tf.Event()
            tf.spawn(ev.set)
            ev.wait(1)
            os._exit(0 if time.monotonic() - t0 < 1 else 3)
        _, status = os.waitpid(pid, 0)
        g.join()
        print("child", os.waitstatus_to_exitcode(status), "parent", g.dead)
    """)
    assert r.stdout == "child 0 parent True\n", r.stderr


def test_a_real_thread_can_run_its_own_hub(in_hub):
    results = []

    def thread_main():
        def inner():
            gs = [tf.spawn(time.sleep, 0.01) for _ in range(10)]
            tf.joinall(gs)
            return core.hub_is_running(), tf.get_hub_id()
        results.append(tf.run(inner))
    real_thread(thread_main).acquire()
    running, hub_id = results[0]
    assert running and hub_id != tf.get_hub_id()


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


def test_os_write_to_a_read_end_fails_at_once_like_python3(in_hub):
    r, w = os.pipe()
    try:
        with pytest.raises(OSError) as err:
            os.write(r, b"x")
        assert err.value.errno == 9  # EBADF, not a wait that never ends
    finally:
        os.close(r)
        os.close(w)


def test_frame_stack_chunks_are_pooled_and_returned(in_hub):
    # Every greenlet running Python code needs a frame-stack chunk: a small
    # root chunk of ours (or, once roots are off, CPython's 16 KiB, from our
    # pool); none is mapped per greenlet and all go back.
    def body(i):
        time.sleep(0)
        return i * 2

    in_use, _, _, roots, _ = core.stack_chunk_counts()
    greenlets = [tf.spawn(body, i) for i in range(2000)]
    time.sleep(0)  # all started: each holds a chunk
    now = core.stack_chunk_counts()
    assert (now[0] - in_use) + (now[3] - roots) >= 2000
    tf.joinall(greenlets)
    assert [g.value for g in greenlets[:3]] == [0, 2, 4]
    after = core.stack_chunk_counts()
    assert after[0] <= in_use + 1 and after[3] <= roots + 1
    # At most 256 16 KiB chunks keep their pages; the rest went back.
    assert after[1] <= 256


def test_root_chunk_grows_when_greenlets_outgrow_it():
    # A fresh process: greenlets parked two frames deep fit the first,
    # 448-byte root; ones a dozen frames deep (~1.5 KiB) outgrow the roots
    # up to 1 KiB, and the next ones get 1.5 KiB, which holds them; ones
    # parked 60 frames deep outgrow every root size, and roots go off.
    # The answers stay right and every chunk comes back.
    r = run_tfpython("""
        import time
        import theframework as tf
        from theframework._core import core

        def deep(n):
            if n:
                return deep(n - 1) + 1
            time.sleep(0.001)
            return 0

        sizes = [core.stack_chunk_counts()[4]]
        for depth in (1, 12, 12, 60):
            greenlets = [tf.spawn(deep, depth) for _ in range(100)]
            tf.joinall(greenlets)
            assert all(g.value == depth for g in greenlets)
            sizes.append(core.stack_chunk_counts()[4])
        in_use, _, _, roots, _ = core.stack_chunk_counts()
        print(sizes, in_use, roots)
    """)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["[448,", "448,", "1536,", "1536,", "0]", "1", "0"]


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
