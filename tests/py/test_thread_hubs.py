"""Hubs of real OS threads: a real thread runs a hub of its own (tf.run),
other threads wake a hub with call_soon_threadsafe, and the hub gives back
what it held (its ring or epoll fd, its eventfd, its memory) when its
thread ends."""
import time

import _framework_core as core
import theframework as tf
from conftest import run_tfpython
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


def test_two_hundred_threads_with_a_hub_each_leave_no_fd_behind():
    r = run_tfpython("""
import os, resource, time
import theframework as tf
from theframework.monkey import get_original
Thread = get_original("threading", "Thread")
resource.setrlimit(resource.RLIMIT_NOFILE, (256, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))

def fds():
    return len(os.listdir("/proc/self/fd"))

def with_a_hub():
    tf.run(lambda: tf.sleep(0.001))

time.sleep(0.001)  # the main hub's own fds are made before counting
before = fds()
for _ in range(200):
    t = Thread(target=with_a_hub)
    t.start()
    t.join()
import socket
socket.socket().close()  # python3 opens a socket here too
print(before, fds())
""")
    before, after = r.stdout.split()
    assert before == after, r.stderr


def test_a_thread_hub_reached_after_its_thread_ended_is_gone():
    r = run_tfpython("""
import theframework as tf
from theframework.monkey import get_original
ids = []
t = get_original("threading", "Thread")(target=lambda: tf.run(lambda: ids.append(tf.get_hub_id())))
t.start()
t.join()
try:
    tf.call_soon_threadsafe(print, hub_id=ids[0])
except ValueError as e:
    print(e)
""")
    assert r.stdout.startswith("no hub with id"), r.stderr
