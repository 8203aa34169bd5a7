"""Cooperative select, poll and selectors, on real sockets and pipes."""
import os
import resource
import select
import selectors
import socket
import time

import pytest

import theframework as tf
from theframework.monkey import get_original, is_module_patched


def test_kqueue_and_devpoll_are_removed_epoll_stays_pythons_own(in_hub):
    assert is_module_patched("select")
    assert not hasattr(select, "kqueue") and not hasattr(select, "devpoll")
    assert select.epoll is get_original("select", "epoll")  # patched in place (test_epoll.py)
    assert selectors.DefaultSelector is selectors.EpollSelector


def test_select_waits_cooperatively_for_one_of_many(in_hub):
    pairs = [socket.socketpair() for _ in range(5)]
    ticks = []
    tf.spawn(lambda: [ticks.append(1) or time.sleep(0.002) for _ in range(5)])
    tf.spawn(lambda: (time.sleep(0.03), pairs[3][1].send(b"x")))
    r, w, x = select.select([p[0] for p in pairs], [], [], 2)
    assert r == [pairs[3][0]] and w == [] and x == []
    assert len(ticks) == 5
    for a, b in pairs:
        a.close()
        b.close()


def test_select_timeouts_for_one_and_many(in_hub):
    a, b = socket.socketpair()
    for rlist in ([a], [a, b]):
        t0 = time.monotonic()
        assert select.select(rlist if rlist == [a] else [a], [], [], 0.03) == ([], [], [])
        assert 0.025 <= time.monotonic() - t0 < 1
    assert select.select([a], [], [], 0) == ([], [], [])
    assert select.select([], [a], [], 0) == ([], [a], [])
    a.close()
    b.close()


def test_select_bad_input_gets_python3s_errors(in_hub):
    a, b = socket.socketpair()
    with pytest.raises(ValueError, match="timeout must be non-negative"):
        select.select([a], [], [], -1)
    with pytest.raises(TypeError, match="timeout must be a float or None"):
        select.select([a], [], [], "1")
    with pytest.raises(ValueError):
        select.select([-1], [], [], 0)
    with pytest.raises(TypeError):
        select.select([object()], [], [], 0)
    fd = a.fileno()
    a.close()
    with pytest.raises(OSError):
        select.select([fd], [], [], 0)
    b.close()


def test_dual_events_are_or_ed(in_hub):
    a, b = socket.socketpair()
    b.send(b"x")
    with selectors.DefaultSelector() as sel:
        sel.register(a, selectors.EVENT_READ | selectors.EVENT_WRITE, "data")
        (key, events), = sel.select(1)
        assert key.data == "data" and events == selectors.EVENT_READ | selectors.EVENT_WRITE
        sel.modify(a, selectors.EVENT_READ)
        assert sel.get_key(a).events == selectors.EVENT_READ
        assert a in [k.fileobj for k in sel.get_map().values()]
    assert sel.get_map() is None
    with pytest.raises(ValueError):  # python3's default (epoll) selector's error
        sel.register(a, selectors.EVENT_READ)
    a.close()
    b.close()


def test_selector_waits_cooperatively_and_times_out(in_hub):
    a, b = socket.socketpair()
    sel = selectors.DefaultSelector()
    sel.register(a, selectors.EVENT_READ)
    t0 = time.monotonic()
    assert sel.select(0.03) == []
    assert time.monotonic() - t0 >= 0.025
    tf.spawn(lambda: (time.sleep(0.01), b.send(b"y")))
    assert [k.fileobj for k, _ in sel.select(2)] == [a]
    sel.close()
    a.close()
    b.close()


@pytest.mark.many_fds
def test_more_than_1024_fds_in_one_selector(in_hub, fd_budget):
    if fd_budget(700, 2, "pipes") < 700:  # 1400 fds, many numbered above 1024
        pytest.skip("needs fds numbered above 1024: RLIMIT_NOFILE's hard limit is %d"
                    % resource.getrlimit(resource.RLIMIT_NOFILE)[1])
    pipes = []
    sel = selectors.DefaultSelector()
    try:
        for _ in range(700):
            pipes.append(os.pipe())
        for r, _ in pipes:
            sel.register(r, selectors.EVENT_READ)
        tf.spawn(lambda: (time.sleep(0.01), os.write(pipes[-1][1], b"z")))
        ready = sel.select(2)
        assert [k.fd for k, _ in ready] == [pipes[-1][0]] and pipes[-1][0] > 1024
    finally:
        sel.close()
        for r, w in pipes:
            os.close(r)
            os.close(w)


def test_poll_object_results_match_python3(in_hub):
    r, w = os.pipe()
    p = select.poll()
    p.register(r, select.POLLIN)
    assert p.poll(10) == []
    tf.spawn(lambda: (time.sleep(0.01), os.write(w, b"q")))
    assert p.poll(2000) == [(r, select.POLLIN)]
    os.close(w)
    os.read(r, 1)
    assert p.poll(0) == [(r, select.POLLHUP)]
    p.modify(r, select.POLLOUT)
    p.unregister(r)
    with pytest.raises(KeyError):
        p.unregister(r)
    os.close(r)
    p.register(r, select.POLLIN)  # a closed fd
    assert p.poll(0) == [(r, select.POLLNVAL)]
    with pytest.raises(TypeError, match="timeout must be an integer or None"):
        p.poll("x")


def test_closing_an_fd_another_greenlet_selects_on(in_hub):
    a, b = socket.socketpair()
    errors = []

    def waiter():
        try:
            select.select([a], [], [], 5)
        except OSError as e:
            errors.append(e)
    g = tf.spawn(waiter)
    time.sleep(0.01)
    a.close()
    g.join(2)
    assert g.dead and len(errors) == 1
    b.close()


def test_selector_closed_while_in_use(in_hub):
    a, b = socket.socketpair()
    sel = selectors.DefaultSelector()
    sel.register(a, selectors.EVENT_READ)
    g = tf.spawn(sel.select, 0.05)
    time.sleep(0.01)
    sel.close()
    g.join(2)
    assert g.dead
    with pytest.raises(ValueError):
        sel.register(b, selectors.EVENT_READ)
    a.close()
    b.close()


def _in_fiber_thread_soon(fn, delay):
    import threading

    import _framework_core
    kinds = []

    def body():
        kinds.append(type(_framework_core.thread_greenlet()).__name__)
        time.sleep(delay)
        fn()
    t = threading.Thread(target=body)
    t.start()
    return t, kinds


def test_a_registration_made_while_another_thread_waits_is_seen(in_hub):
    # gunicorn's gthread worker: the main thread waits in select(), a worker
    # thread registers a kept-alive connection that is already readable.
    sel = selectors.DefaultSelector()
    a, b = socket.socketpair()
    b.send(b"x")
    t, kinds = _in_fiber_thread_soon(lambda: sel.register(a, selectors.EVENT_READ, "conn"), 0.05)
    start = time.monotonic()
    events = sel.select(2.0)
    elapsed = time.monotonic() - start
    t.join()
    assert kinds == ["ThreadFiber"]
    assert [(key.fileobj, key.data, mask) for key, mask in events] == [(a, "conn", selectors.EVENT_READ)]
    assert elapsed < 1.0


def _select_on_two_while_a_thread_unregisters_one(close_it):
    """The main thread waits on a and c; a thread unregisters a (and closes
    it, or makes it readable), then makes c readable: only c is reported."""
    sel = selectors.DefaultSelector()
    a, b = socket.socketpair()
    c, d = socket.socketpair()
    sel.register(a, selectors.EVENT_READ)
    sel.register(c, selectors.EVENT_READ)

    def change():
        sel.unregister(a)
        if close_it:
            a.close()  # python3's epoll forgot it: the close cannot reach the wait
            time.sleep(0.02)
        else:
            b.send(b"x")  # a is ready, but no longer registered
        d.send(b"y")
    t, _ = _in_fiber_thread_soon(change, 0.05)
    events = sel.select(2.0)
    t.join()
    assert [key.fileobj for key, _ in events] == [c]


def test_an_unregistration_made_while_another_thread_waits_is_seen(in_hub):
    _select_on_two_while_a_thread_unregisters_one(close_it=False)


def test_a_modify_while_waiting_and_an_empty_poll_object(in_hub):
    p = select.poll()
    a, b = socket.socketpair()
    t, _ = _in_fiber_thread_soon(lambda: p.register(a, select.POLLOUT), 0.05)
    start = time.monotonic()
    assert p.poll(2000) == [(a.fileno(), select.POLLOUT)]  # nothing was registered when it began
    assert time.monotonic() - start < 1.0
    t.join()
    p.modify(a, select.POLLIN)
    t, _ = _in_fiber_thread_soon(lambda: p.modify(a, select.POLLOUT), 0.05)
    assert p.poll(2000) == [(a.fileno(), select.POLLOUT)]
    t.join()


def test_unregister_then_close_while_another_thread_waits(in_hub):
    _select_on_two_while_a_thread_unregisters_one(close_it=True)
