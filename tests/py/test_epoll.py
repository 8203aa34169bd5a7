"""select.epoll is kept and cooperative: poll() waits on the hub for the
epoll fd, registrations made while it waits wake it, timeouts and errors
are python3's, and DefaultSelector is python3's EpollSelector over it."""
import os
import select
import selectors
import socket
import subprocess
import threading
import time

import pytest

from conftest import PYTHON, run_tfpython


def test_epoll_poll_waits_on_the_hub(ticker):
    a, b = socket.socketpair()
    with a, b, select.epoll() as ep:
        ep.register(a.fileno(), select.EPOLLIN)
        threading.Thread(target=lambda: (time.sleep(0.3), b.send(b"x"))).start()
        with ticker:
            assert ep.poll(5) == [(a.fileno(), select.EPOLLIN)]
        assert len(ticker.gaps) >= 10 and ticker.largest_gap <= 0.05, ticker.gaps


def test_epoll_poll_timeout_returns_an_empty_list(ticker):
    r, w = os.pipe()
    with select.epoll() as ep:
        ep.register(r, select.EPOLLIN)
        with ticker:
            start = time.monotonic()
            assert ep.poll(0.2) == []
            assert 0.19 <= time.monotonic() - start < 1.5
        assert ticker.largest_gap <= 0.05
    os.close(r)
    os.close(w)


def test_a_registration_made_while_another_thread_waits_wakes_it(in_hub):
    a, b = socket.socketpair()
    with a, b, select.epoll() as ep:
        def register_later():
            time.sleep(0.1)
            ep.register(a.fileno(), select.EPOLLIN)
            b.send(b"x")
        threading.Thread(target=register_later).start()
        assert ep.poll(5) == [(a.fileno(), select.EPOLLIN)]


def test_default_selector_is_epoll_and_cooperative(ticker):
    assert selectors.DefaultSelector is selectors.EpollSelector
    a, b = socket.socketpair()
    with a, b, selectors.DefaultSelector() as sel:
        sel.register(a, selectors.EVENT_READ, "data")
        threading.Thread(target=lambda: (time.sleep(0.3), b.send(b"x"))).start()
        with ticker:
            [(key, events)] = sel.select(5)
        assert key.data == "data" and events == selectors.EVENT_READ
        assert ticker.largest_gap <= 0.05


def test_epoll_errors_and_results_are_python3s():
    code = """
import os, select
ep = select.epoll()
r, w = os.pipe()
ep.register(r, select.EPOLLIN)
for args, kwargs in (((0,), {}), ((0.001,), {}), (("x",), {}), ((float("nan"),), {}), ((1e20,), {}),
                     ((0, 0), {}), ((), {"timeout": 0, "maxevents": 1}), ((), {"bogus": 1}), ((0, 1, 2), {}),
                     (("x", 0), {}), ((-5,), {"maxevents": -3})):
    try:
        print(ep.poll(*args, **kwargs))
    except Exception as e:
        print(type(e).__name__, e)
os.write(w, b"x")
print(ep.poll(-1), ep.poll(None, 1), ep.poll(timeout=2.5))
print(type(ep), type(select.epoll.fromfd(os.dup(ep.fileno()))), select.epoll.poll.__text_signature__)
ep.close()
try:
    ep.poll(1)
except ValueError as e:
    print(e)
"""
    ours = run_tfpython(code)
    theirs = subprocess.run([PYTHON, "-c", code], capture_output=True, text=True)
    assert ours.stdout == theirs.stdout and ours.returncode == theirs.returncode, ours.stderr
