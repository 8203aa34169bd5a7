"""A real OS thread that ran a hub of its own gives back what the hub held
(its ring or epoll fd, its eventfd, its memory) when the thread ends."""
import os

from conftest import run_tfpython


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
