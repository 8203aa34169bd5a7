"""Threads run inside the hub: threading, _thread, queue and
concurrent.futures, with fiber and greenlet identity asserted where it
matters."""
import concurrent.futures
import logging
import queue
import threading
import time
import _thread

import pytest
from greenlet import getcurrent

import _framework_core as core
import theframework as tf
from conftest import run_tfpython
from theframework.monkey import get_original, is_module_patched


def test_threads_are_fibers_with_their_own_identity(in_hub):
    assert is_module_patched("threading") and is_module_patched("_thread")
    seen = {}

    def body(i):
        task = core.current_task()
        # A fiber runs on the hub's greenlet, switched by the hub itself.
        assert type(task) is core.ThreadFiber and getcurrent() is core.get_hub_greenlet()
        seen[i] = (threading.get_ident(), id(task), core.hub_is_running(),
                   threading.current_thread().name)
        time.sleep(0.01)
        assert core.current_task() is task and threading.get_ident() == id(task)
    ts = [threading.Thread(target=body, args=(i,), name="w%d" % i) for i in range(5)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    idents = {v[0] for v in seen.values()}
    assert len(idents) == 5
    assert all(v[0] == v[1] and v[2] for v in seen.values())
    assert [seen[i][3] for i in range(5)] == ["w%d" % i for i in range(5)]
    assert threading.main_thread() is threading.current_thread()
    assert threading.main_thread().ident == id(core.get_main_greenlet())


def test_join_timeout_is_alive_enumerate_active_count(in_hub):
    ev = threading.Event()
    t = threading.Thread(target=ev.wait)
    t.start()
    assert t.is_alive() and t in threading.enumerate()
    before = threading.active_count()
    t.join(0.02)
    assert t.is_alive()
    ev.set()
    t.join(5)
    assert not t.is_alive() and threading.active_count() == before - 1


def test_lock_errors_are_python3s(in_hub):
    lock = threading.Lock()
    with pytest.raises(RuntimeError, match="release unlocked lock"):
        lock.release()
    with pytest.raises(ValueError, match="can't specify a timeout for a non-blocking call"):
        lock.acquire(False, 1)
    with pytest.raises(ValueError, match="timeout value must be a non-negative number"):
        lock.acquire(True, -2)
    with pytest.raises(OverflowError):
        lock.acquire(True, 1e300)
    rlock = threading.RLock()
    rlock.acquire()
    errors = []

    def other():
        try:
            rlock.release()
        except RuntimeError as e:
            errors.append(str(e))
    t = threading.Thread(target=other)
    t.start()
    t.join()
    assert errors == ["cannot release un-acquired lock"]


def test_lock_contention_between_greenlets_does_not_block_the_hub(in_hub):
    lock = threading.Lock()
    order = []

    def worker(i):
        with lock:
            order.append(("in", i))
            time.sleep(0.01)  # holds the lock while yielding
            order.append(("out", i))
    ts = [threading.Thread(target=worker, args=(i,)) for i in range(3)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    for k in range(0, 6, 2):  # never interleaved inside the lock
        assert order[k][0] == "in" and order[k + 1] == ("out", order[k][1])


def test_lock_acquire_timeout(in_hub):
    lock = threading.Lock()
    lock.acquire()
    t0 = time.monotonic()
    assert lock.acquire(timeout=0.03) is False
    assert time.monotonic() - t0 >= 0.025
    tf.spawn(lambda: (time.sleep(0.01), lock.release()))
    assert lock.acquire(timeout=2) is True


def test_condition_semaphore_barrier_timer(in_hub):
    cond = threading.Condition()
    items = []

    def producer():
        for i in range(3):
            time.sleep(0.005)
            with cond:
                items.append(i)
                cond.notify()
    threading.Thread(target=producer).start()
    got = []
    with cond:
        while len(got) < 3:
            cond.wait_for(lambda: items, timeout=2)
            got.extend(items)
            items.clear()
    assert got == [0, 1, 2]
    sem = threading.BoundedSemaphore(2)
    assert sem.acquire() and sem.acquire() and not sem.acquire(timeout=0.01)
    sem.release()
    sem.release()
    with pytest.raises(ValueError):
        sem.release()
    barrier = threading.Barrier(3)
    passed = []
    ts = [threading.Thread(target=lambda: passed.append(barrier.wait())) for _ in range(3)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert sorted(passed) == [0, 1, 2]
    fired = threading.Event()
    threading.Timer(0.01, fired.set).start()
    assert fired.wait(2)


def test_thread_local_is_per_greenlet(in_hub):
    local = threading.local()
    local.value = "main"
    seen = []

    def body():
        seen.append(getattr(local, "value", None))
        local.value = "thread"
        seen.append(local.value)
    t = threading.Thread(target=body)
    t.start()
    t.join()
    assert seen == [None, "thread"] and local.value == "main"

    class Sub(threading.local):
        def __init__(self, x):
            self.x = x
    sub = Sub(7)
    out = []
    t = threading.Thread(target=lambda: out.append(sub.x))
    t.start()
    t.join()
    assert out == [7]


def test_excepthook_reports_and_the_program_goes_on():
    r = run_tfpython("""
        import threading
        t = threading.Thread(target=lambda: 1 / 0, name="boom")
        t.start(); t.join()
        print("after")
    """)
    assert r.returncode == 0 and r.stdout == "after\n"
    assert "Exception in thread boom" in r.stderr and "ZeroDivisionError" in r.stderr


def test_non_daemon_threads_are_joined_at_exit_daemon_ones_dropped():
    r = run_tfpython("""
        import threading, time
        threading.Thread(target=lambda: (time.sleep(0.1), print("joined"))).start()
        threading.Thread(target=lambda: (time.sleep(10), print("never")), daemon=True).start()
        print("main ends")
    """, timeout=30)
    assert r.stdout == "main ends\njoined\n", r.stderr
    assert r.returncode == 0


def test_queue_variants_with_timeouts(in_hub):
    for cls in (queue.Queue, queue.LifoQueue, queue.PriorityQueue, queue.SimpleQueue):
        q = cls()
        threading.Thread(target=lambda: (time.sleep(0.01), q.put(1))).start()
        assert q.get(timeout=2) == 1
        with pytest.raises(queue.Empty):
            q.get(timeout=0.01)
    assert queue.SimpleQueue.__module__ == "queue" and queue.SimpleQueue is not queue._PySimpleQueue
    bounded = queue.Queue(1)
    bounded.put(1)
    with pytest.raises(queue.Full):
        bounded.put(2, timeout=0.01)


def test_producer_consumer_many_items(in_hub):
    q = queue.Queue(maxsize=10)
    out = []

    def consumer():
        while True:
            item = q.get(timeout=5)
            if item is None:
                return
            out.append(item)
    cs = [threading.Thread(target=consumer) for _ in range(4)]
    for c in cs:
        c.start()
    for i in range(2000):
        q.put(i)
    for _ in cs:
        q.put(None)
    for c in cs:
        c.join()
    assert sorted(out) == list(range(2000))


def test_thread_pool_executor_map_and_wait(in_hub):
    with concurrent.futures.ThreadPoolExecutor(max_workers=16) as ex:
        assert list(ex.map(lambda x: x * x, range(10000))) == [x * x for x in range(10000)]
        futures = [ex.submit(time.sleep, 0.01) for _ in range(20)]
        done, pending = concurrent.futures.wait(futures, timeout=5)
        assert len(done) == 20 and not pending
        assert sum(1 for _ in concurrent.futures.as_completed([ex.submit(abs, -i) for i in range(50)])) == 50


def test_logging_from_many_greenlets(in_hub, tmp_path):
    path = tmp_path / "log.txt"
    handler = logging.FileHandler(path)
    logger = logging.getLogger("tf-test")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)

    def body(i):
        for j in range(20):
            logger.info("greenlet %d line %d", i, j)
            time.sleep(0)
    ts = [threading.Thread(target=body, args=(i,)) for i in range(50)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    handler.close()
    logger.removeHandler(handler)
    assert len(path.read_text().splitlines()) == 1000


def test_real_thread_escape_hatch_and_shared_lock(in_hub):
    RealThread = get_original("threading", "Thread")
    assert RealThread is not threading.Thread
    lock = threading.Lock()
    lock.acquire()
    seen = []

    def real():
        seen.append(core.hub_is_running())
        with lock:  # a real OS thread waits on a cooperative lock
            seen.append("got it")
    t = RealThread(target=real)
    t.start()
    ticks = []
    for _ in range(5):  # the hub keeps running meanwhile
        ticks.append(1)
        time.sleep(0.005)
    lock.release()
    t.join()
    assert seen == [False, "got it"] and len(ticks) == 5
    # The other way round: a greenlet waits for a lock a real thread holds.
    lock2 = threading.Lock()
    held = get_original("_thread", "allocate_lock")()
    held.acquire()

    def holder():
        lock2.acquire()
        held.release()
        get_original("time", "sleep")(0.05)
        lock2.release()
    RealThread(target=holder).start()
    tf.run_in_thread(held.acquire)
    ticker = tf.spawn(lambda: [time.sleep(0.005) for _ in range(3)])
    assert lock2.acquire(timeout=5)
    ticker.join()
    lock2.release()


def test_start_new_thread_and_its_errors(in_hub):
    done = threading.Event()
    ident = _thread.start_new_thread(done.set, ())
    assert done.wait(2) and ident != threading.get_ident()
    with pytest.raises(TypeError, match="first arg must be callable"):
        _thread.start_new_thread(1, ())
    with pytest.raises(TypeError, match="2nd arg must be a tuple"):
        _thread.start_new_thread(print, [])


def test_threads_left_real_with_the_opt_out():
    r = run_tfpython("""
        import threading, _framework_core as core
        out = []
        t = threading.Thread(target=lambda: out.append(core.hub_is_running())); t.start(); t.join()
        print(out, threading.Lock)
    """, env={"TFPYTHON_PATCH_THREADS": "0"})
    assert r.stdout.startswith("[False] <built-in function allocate_lock>"), r.stdout + r.stderr


def test_interrupt_main_from_a_thread_raises_in_main_at_its_wait(in_hub):
    # python3 raises KeyboardInterrupt in the main thread at once; the main
    # greenlet gets it at the wait it is in (here: start() or join()), not
    # later whenever the hub gets round to it.
    import _thread

    def call_interrupt():
        _thread.interrupt_main()

    t = threading.Thread(target=call_interrupt)
    with pytest.raises(KeyboardInterrupt):
        t.start()
        t.join()
    t.join()
    time.sleep(0.01)  # nothing left pending for later


def test_a_thread_that_always_finds_its_locks_free_still_yields(in_hub):
    # Like python3's switch interval: a blocking acquire that succeeds at
    # once still lets the others run now and then.
    lock = threading.Lock()
    stop = []
    ticks = []

    def spinner():
        while not stop:
            with lock:
                pass

    def ticker():
        ticks.append(1)
        stop.append(1)

    s = threading.Thread(target=spinner)
    s.start()
    threading.Thread(target=ticker).start()
    s.join(5)
    assert ticks and not s.is_alive()


def test_event_makes_its_condition_only_for_a_wait_that_blocks(in_hub):
    # A Thread's _started Event is set before anyone waits: no Condition.
    t = threading.Thread(target=time.sleep, args=(0,))
    t.start()
    assert t._started.is_set() and t._started._lazy_cond is None
    t.join()
    # A wait that must block makes one; set() from another greenlet wakes it.
    ev = threading.Event()
    tf.spawn(lambda: (time.sleep(0.01), ev.set()))
    assert ev._lazy_cond is None
    assert ev.wait(2) is True and ev._lazy_cond is not None
    ev.clear()
    assert ev.wait(0.01) is False and not ev.is_set()
    assert repr(ev).startswith("<threading.Event at ") and repr(ev).endswith(": unset>")
    # python3's _cond is there on demand, a Condition over a plain lock.
    with ev._cond:
        assert not ev._cond.acquire(False)


def test_event_between_a_real_thread_and_greenlets(in_hub):
    RealThread = get_original("threading", "Thread")
    for real_waits in (True, False):
        ev = threading.Event()
        seen = []
        ticks = []
        ticker = tf.spawn(lambda: [(ticks.append(1), time.sleep(0.002)) for _ in range(5)])
        if real_waits:
            t = RealThread(target=lambda: seen.append((core.hub_is_running(), ev.wait(5))))
            t.start()
            time.sleep(0.02)  # the real thread is (most likely) blocked in wait()
            ev.set()
        else:
            def setter():
                seen.append((core.hub_is_running(), None))
                get_original("time", "sleep")(0.02)
                ev.set()
            t = RealThread(target=setter)
            t.start()
            assert ev.wait(5) is True  # a greenlet waits; the hub keeps running
        t.join()
        ticker.join()
        assert seen[0][0] is False and seen[0][1] in (True, None)
        assert len(ticks) == 5 and ev.is_set()


def test_thread_body_reports_like_python3(tmp_path):
    # An exception escaping a raw _thread function: python3's report, naming
    # the bound method that was started.
    code = """
import _thread, time
class A:
    def boom(self):
        raise ValueError("bad")
    def __repr__(self):
        return "<A>"
_thread.start_new_thread(A().boom, ())
time.sleep(0.1)
_thread.start_new_thread(exit, ())  # SystemExit: silent
time.sleep(0.1)
print("after")
"""
    import subprocess
    from conftest import PYTHON
    # Ours on the greenlet path (checked silently, at the end so that line
    # numbers match), python3 on real threads.
    hub_path = ("import _framework_core\n"
                "assert _thread.start_new_thread is _framework_core.start_new_thread\n")
    ours = run_tfpython(code + hub_path)
    theirs = subprocess.run([PYTHON, "-c", code], capture_output=True, text=True)
    assert ours.returncode == theirs.returncode == 0
    assert ours.stdout == theirs.stdout == "after\n"
    assert ours.stderr == theirs.stderr
    assert "Exception ignored in thread started by: <bound method A.boom of <A>>" in ours.stderr


def test_native_id_is_the_os_threads_also_after_fork(in_hub):
    import os
    ids = []
    ts = [threading.Thread(target=lambda: ids.append(threading.get_native_id())) for _ in range(3)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert ids == [os.getpid()] * 3 == [t.native_id for t in ts]
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.write(w, b"%d %d" % (threading.get_native_id(), os.getpid()))
        os._exit(0)
    os.waitpid(pid, 0)
    child_id, child_pid = os.read(r, 100).split()
    os.close(r)
    os.close(w)
    assert child_id == child_pid and int(child_pid) == pid


def test_dangling_leaves_threads_out_until_read_then_is_python3s_weakset():
    # A fresh process: nothing has read threading._dangling yet.
    r = run_tfpython("""
        import gc, os, threading, time, weakref
        from _weakrefset import WeakSet
        dangling = threading._dangling
        assert repr(type(dangling)) == "<class '_weakrefset.WeakSet'>" and isinstance(dangling, WeakSet)
        ts = [threading.Thread(target=time.sleep, args=(0.01,)) for _ in range(20)]
        # No weak reference per Thread while nobody reads the set.
        assert [weakref.getweakrefcount(t) for t in ts] == [0] * 20
        assert type(dangling) is not WeakSet
        for t in ts[:10]:
            t.start()
        for t in ts[:10]:
            t.join()
        doomed = threading.Thread(target=print)
        del doomed
        gc.collect()
        # The first read: the live Threads, the main thread included.
        members = set(dangling)
        assert type(dangling) is WeakSet and members == set(ts) | {threading.main_thread()}
        assert set(vars(dangling)) == set(vars(WeakSet()))   # no add() of ours left behind
        assert [weakref.getweakrefcount(t) for t in ts] == [1] * 20
        # From now on a plain WeakSet: copy, clear, add as python3's.
        saved = dangling.copy()
        assert type(saved) is WeakSet and set(saved) == members
        dangling.clear()
        late = threading.Thread(target=print)
        assert set(dangling) == {late}
        dangling.update(saved)
        assert len(dangling) == 22
        print("ok")
    """)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "ok"


def test_dangling_takes_anything_else_for_real():
    r = run_tfpython("""
        import threading, time
        from _weakrefset import WeakSet
        class Other:
            pass
        t = threading.Thread(target=time.sleep, args=(0.01,))
        assert type(threading._dangling) is not WeakSet   # unread: Threads left out
        other = Other()
        threading._dangling.add(other)   # not a Thread: the set becomes real
        assert type(threading._dangling) is WeakSet
        assert other in threading._dangling and t in threading._dangling
        print("ok")
    """)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "ok"


def test_fork_before_dangling_is_read_stops_its_threads_as_python3():
    # threading._after_fork stops every dangling Thread that is not running:
    # one that ended but was never joined is only in _dangling, which the
    # fork reads (a scan) for the first time.
    r = run_tfpython("""
        import os, threading, time
        from _weakrefset import WeakSet
        ended = threading.Thread(target=time.sleep, args=(0,))
        ended.start()
        time.sleep(0.01)   # it has ended; nobody joins it
        running = threading.Thread(target=time.sleep, args=(0.3,))
        running.start()
        assert type(threading._dangling) is not WeakSet
        pid = os.fork()
        if pid == 0:
            running.join()   # returns at once: the child has no other thread
            ok = ended._is_stopped and ended._tstate_lock is None and not running.is_alive()
            os._exit(0 if ok else 1)
        _, status = os.waitpid(pid, 0)
        print(os.waitstatus_to_exitcode(status))
    """)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "0"


def test_dangling_errors_before_its_first_read_show_python3s_traceback():
    r = run_tfpython("""
        import threading, traceback
        class X:
            pass
        from _weakrefset import WeakSet
        assert type(threading._dangling) is not WeakSet
        try:
            threading._dangling.remove(X())   # the first read, and a KeyError
        except KeyError:
            print(traceback.format_exc())
    """)
    assert r.returncode == 0, r.stderr
    frames = [line for line in r.stdout.splitlines() if line.lstrip().startswith("File ")]
    assert len(frames) == 2 and "_weakrefset.py" in frames[1] and "in remove" in frames[1]
    assert "theframework" not in r.stdout


def test_dangling_add_with_bad_arguments_raises_python3s_errors():
    import subprocess
    from conftest import PYTHON
    code = """
import threading, traceback
for args in ((), (1, 2), (1,)):
    try:
        threading._dangling.add(*args)
    except TypeError as e:
        print(e)
"""
    lazy_first = ("import threading\nfrom _weakrefset import WeakSet\n"
                  "assert type(threading._dangling) is not WeakSet\n")
    ours = run_tfpython(lazy_first + code)
    theirs = subprocess.run([PYTHON, "-c", code], capture_output=True, text=True)
    assert ours.returncode == theirs.returncode == 0, ours.stderr
    assert ours.stdout == theirs.stdout
    assert "missing 1 required positional argument: 'item'" in ours.stdout
