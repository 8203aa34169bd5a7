"""A small suite for the pytest-xdist row (run with -n 2)."""
import socket
import threading
import time

import pytest


@pytest.mark.parametrize("n", range(10))
def test_sleeps(n):
    time.sleep(0.01)
    assert n < 10


def test_threads_and_sockets():
    a, b = socket.socketpair()
    t = threading.Thread(target=lambda: b.sendall(b"ping"))
    t.start()
    assert a.recv(4) == b"ping"
    t.join()


def test_local():
    local = threading.local()
    local.x = 1
    seen = []
    t = threading.Thread(target=lambda: seen.append(getattr(local, "x", None)))
    t.start()
    t.join()
    assert seen == [None]
