"""Cooperative sockets on real loopback sockets, inside the hub. Each
blocking call is shown to be cooperative: another greenlet makes progress
while it waits."""
import errno
import os
import socket
import threading
import time

import pytest

import theframework as tf
from conftest import open_fd_count
from theframework.monkey import get_original, is_module_patched

HAS_IPV6 = socket.has_ipv6 and os.path.exists("/proc/net/if_inet6")


class Ticker:
    """A greenlet that counts while the test's greenlet is blocked."""

    def __init__(self):
        self.ticks = 0
        self.g = tf.spawn(self._run)

    def _run(self):
        while True:
            self.ticks += 1
            time.sleep(0.002)

    def stop(self):
        self.g.kill()
        return self.ticks


def cooperatively(fn, *args):
    ticker = Ticker()
    try:
        return fn(*args)
    finally:
        assert ticker.stop() > 1, "the call blocked the hub"


@pytest.fixture
def pair(in_hub):
    a, b = socket.socketpair()
    yield a, b
    a.close()
    b.close()


def later(delay, fn, *args):
    def run():
        time.sleep(delay)
        fn(*args)
    return tf.spawn(run)


def test_patched_socket_is_a_subclass_of_the_original(in_hub):
    assert is_module_patched("socket")
    original = get_original("socket", "socket")
    assert socket.socket is not original and issubclass(socket.socket, original)
    s = socket.socket()
    assert isinstance(s, original) and repr(s).startswith("<socket.socket fd=")
    assert s.type == socket.SOCK_STREAM  # no SOCK_NONBLOCK leaks out
    s.settimeout(1)
    assert s.type == socket.SOCK_STREAM
    s.close()
    a, b = socket.socketpair()
    assert type(a) is socket.socket
    c = socket.fromfd(a.fileno(), socket.AF_UNIX, socket.SOCK_STREAM)
    assert type(c) is socket.socket and type(a.dup()) is socket.socket
    for s in (a, b, c):
        s.close()


def test_recv_waits_cooperatively(pair):
    a, b = pair
    later(0.03, b.sendall, b"hello")
    assert cooperatively(a.recv, 100) == b"hello"


def test_recv_into_writes_into_the_callers_buffer(pair):
    a, b = pair
    buf = bytearray(16)
    view = memoryview(buf)[4:]
    later(0.02, b.sendall, b"abc")
    assert cooperatively(a.recv_into, view) == 3
    assert bytes(buf[4:7]) == b"abc"
    later(0.01, b.sendall, b"wxyz")
    assert a.recv_into(buf, 2) == 2 and buf[:2] == b"wx"
    assert a.recv_into(buffer=buf, nbytes=2, flags=0) == 2 and buf[:2] == b"yz"
    with pytest.raises(ValueError, match="negative buffersize in recv_into"):
        a.recv_into(buf, -1)
    with pytest.raises(ValueError, match="buffer too small for requested bytes"):
        a.recv_into(buf, 100)


def test_bad_arguments_get_python3s_errors(pair):
    a, b = pair
    with pytest.raises(ValueError, match="negative buffersize in recv"):
        a.recv(-1)
    with pytest.raises(TypeError):
        a.recv("x")
    with pytest.raises(TypeError):
        a.send("text")
    with pytest.raises(TypeError):
        a.sendall(12)


def test_flags_are_honoured(pair):
    a, b = pair
    b.sendall(b"peekaboo")
    assert a.recv(4, socket.MSG_PEEK) == b"peek"
    assert a.recv(100) == b"peekaboo"
    with pytest.raises(BlockingIOError):
        a.recv(10, socket.MSG_DONTWAIT)  # never waits
    later(0.01, b.sendall, b"12")
    later(0.03, b.sendall, b"345678")
    assert cooperatively(a.recv, 8, socket.MSG_WAITALL) == b"12345678"


def test_send_dontwait_raises_when_full(pair):
    a, b = pair
    a.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    with pytest.raises(BlockingIOError):
        while True:
            a.send(b"x" * 65536, socket.MSG_DONTWAIT)


def test_partial_sends_under_back_pressure_lose_nothing(pair):
    a, b = pair
    a.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8192)
    payload = os.urandom(4 * 1024 * 1024)
    received = bytearray()

    def reader():
        while len(received) < len(payload):
            time.sleep(0.001)  # a slow reader keeps the writer blocked
            chunk = b.recv(65536)
            if not chunk:
                break
            received.extend(chunk)
    g = tf.spawn(reader)
    cooperatively(a.sendall, memoryview(payload))
    g.join(30)
    assert bytes(received) == payload


def test_sendall_accepts_any_buffer(pair):
    a, b = pair
    import array
    a.sendall(array.array("i", [1, 2]))
    a.sendall(bytearray(b"ba"))
    a.sendall(memoryview(b"xmvx")[1:3])
    assert b.recv(100) == array.array("i", [1, 2]).tobytes() + b"bamv"


def test_recv_timeout_fires_and_cancels(pair):
    a, b = pair
    a.settimeout(0.05)
    t0 = time.monotonic()
    with pytest.raises(socket.timeout, match="timed out"):
        cooperatively(a.recv, 10)
    assert 0.045 <= time.monotonic() - t0 < 1.0
    b.sendall(b"after")  # the cancelled wait swallowed nothing
    assert a.recv(10) == b"after"


def test_timeout_stress_loses_no_byte(pair):
    a, b = pair
    a.settimeout(0.003)
    sent = bytearray()
    got = bytearray()

    def writer():
        for i in range(300):
            chunk = bytes([i % 256]) * (1 + i % 7)
            sent.extend(chunk)
            b.sendall(chunk)
            time.sleep(0.0025 if i % 2 else 0.003)  # near the deadline
        b.shutdown(socket.SHUT_WR)
    tf.spawn(writer)
    while True:
        try:
            chunk = a.recv(5)
        except socket.timeout:
            continue
        if not chunk:
            break
        got.extend(chunk)
    assert got == sent


def test_non_blocking_socket_never_waits(pair):
    a, b = pair
    a.setblocking(False)
    with pytest.raises(BlockingIOError):
        a.recv(10)
    assert a.gettimeout() == 0.0


def test_setdefaulttimeout_applies(in_hub):
    socket.setdefaulttimeout(0.05)
    try:
        a, b = socket.socketpair()
        assert a.gettimeout() == 0.05
        with pytest.raises(socket.timeout):
            a.recv(1)
    finally:
        socket.setdefaulttimeout(None)
        a.close()
        b.close()


def test_close_wakes_every_waiter_with_ebadf(pair):
    a, b = pair
    errors = []

    def waiter():
        try:
            a.recv(10)
        except OSError as e:
            errors.append(e.errno)
    gs = [tf.spawn(waiter) for _ in range(3)]
    time.sleep(0.01)
    a.close()
    tf.joinall(gs, 5)
    assert errors == [errno.EBADF] * 3


def _listener(family=socket.AF_INET, host="127.0.0.1"):
    srv = socket.socket(family, socket.SOCK_STREAM)
    srv.bind((host, 0))
    srv.listen(128)
    return srv


def echo_server(srv):
    def handle(conn):
        with conn:
            while True:
                data = conn.recv(65536)
                if not data:
                    return
                conn.sendall(data)

    def loop():
        while True:
            try:
                conn, _ = srv.accept()
            except OSError:
                return
            tf.spawn(handle, conn)
    return tf.spawn(loop)


@pytest.mark.parametrize("family,host", [(socket.AF_INET, "127.0.0.1")] +
                         ([(socket.AF_INET6, "::1")] if HAS_IPV6 else []))
def test_accept_and_connect_with_real_address_formats(in_hub, family, host):
    srv = _listener(family, host)
    port = srv.getsockname()[1]
    accepted = []

    def acceptor():
        conn, addr = srv.accept()
        accepted.append(addr)
        conn.close()
    g = tf.spawn(acceptor)
    c = socket.socket(family, socket.SOCK_STREAM)
    c.connect((host, port))  # loopback connects at once: nothing to wait for
    g.join(5)
    addr = accepted[0]
    if family == socket.AF_INET:
        assert addr == ("127.0.0.1", c.getsockname()[1])
    else:
        assert len(addr) == 4 and addr[0] == "::1" and addr[1] == c.getsockname()[1]
    c.close()
    srv.close()


def test_unix_sockets_accept_and_connect(in_hub, tmp_path):
    path = str(tmp_path / "sock")
    srv = socket.socket(socket.AF_UNIX)
    srv.bind(path)
    srv.listen()
    echo_server(srv)
    c = socket.socket(socket.AF_UNIX)
    c.connect(path)
    c.sendall(b"unix")
    assert c.recv(10) == b"unix"
    conn_addr = []
    srv2 = socket.socket(socket.AF_UNIX)
    srv2.bind(b"\0tfpython-abstract-%d" % os.getpid())
    srv2.listen()
    tf.spawn(lambda: conn_addr.append(srv2.accept()[1]))
    c2 = socket.socket(socket.AF_UNIX)
    c2.connect(b"\0tfpython-abstract-%d" % os.getpid())
    time.sleep(0.01)
    assert conn_addr == [""]  # an unnamed peer, as python3 reports it
    for s in (c, c2, srv, srv2):
        s.close()


def test_connect_by_name_resolves_off_the_hub(in_hub):
    srv = _listener()
    echo_server(srv)
    c = socket.create_connection(("localhost", srv.getsockname()[1]), timeout=5)
    c.sendall(b"named")
    assert c.recv(10) == b"named"
    c.close()
    srv.close()


def test_connect_refused_and_connect_ex(in_hub):
    srv = _listener()
    port = srv.getsockname()[1]
    srv.close()
    with pytest.raises(ConnectionRefusedError):
        socket.socket().connect(("127.0.0.1", port))
    assert socket.socket().connect_ex(("127.0.0.1", port)) == errno.ECONNREFUSED


def test_accept_timeout_and_blocking_accept_interrupted_keeps_the_connection(in_hub):
    srv = _listener()
    srv.settimeout(0.02)
    with pytest.raises(socket.timeout):
        srv.accept()
    srv.settimeout(None)
    g = tf.spawn(srv.accept)
    time.sleep(0.01)
    g.kill()  # interrupts a ring accept
    c = socket.create_connection(srv.getsockname())
    conn, _ = srv.accept()  # the connection is not lost to the cancelled accept
    c.sendall(b"kept")
    assert conn.recv(10) == b"kept"
    for s in (c, conn, srv):
        s.close()


def test_peer_reset_and_half_close(pair, in_hub):
    srv = _listener()
    echo_server(srv)
    c = socket.create_connection(srv.getsockname())
    c.sendall(b"half")
    c.shutdown(socket.SHUT_WR)
    assert c.recv(10) == b"half"
    assert c.recv(10) == b""  # the server closed after our half-close
    c.close()
    # Reset: the peer closes with unread data.
    a, b = socket.socketpair(socket.AF_INET if False else socket.AF_UNIX)
    b.close()
    with pytest.raises(BrokenPipeError):
        a.sendall(b"x" * 1000000)
    a.close()
    srv.close()


def test_large_transfer_byte_for_byte(in_hub):
    srv = _listener()
    echo_server(srv)
    c = socket.create_connection(srv.getsockname())
    payload = os.urandom(8 * 1024 * 1024)
    got = bytearray()

    def reader():
        while len(got) < len(payload):
            chunk = c.recv(1 << 20)
            if not chunk:
                break
            got.extend(chunk)
    g = tf.spawn(reader)
    c.sendall(payload)
    g.join(30)
    assert got == payload
    c.close()
    srv.close()


def test_makefile_reads_and_writes_cooperatively(pair):
    a, b = pair
    rf = a.makefile("rb")
    later(0.02, b.sendall, b"line one\nline two\n")
    assert cooperatively(rf.readline) == b"line one\n"
    assert rf.readline() == b"line two\n"
    rf.close()


def test_sendfile(in_hub, tmp_path):
    data = os.urandom(3 * 1024 * 1024)
    path = tmp_path / "blob"
    path.write_bytes(data)
    a, b = socket.socketpair()
    got = bytearray()

    def reader():
        while len(got) < len(data):
            got.extend(b.recv(1 << 20))
    g = tf.spawn(reader)
    with open(path, "rb") as f:
        assert a.sendfile(f) == len(data)
    g.join(10)
    assert got == data and a.gettimeout() is None
    a.close()
    b.close()


def test_outside_the_hub_sockets_block_like_python3():
    from conftest import run_tfpython
    r = run_tfpython("""
        import socket, time
        from theframework.monkey import get_original
        import _framework_core as core
        a, b = socket.socketpair()
        out = []
        lock = get_original("_thread", "allocate_lock")(); lock.acquire()
        def t():
            out.append(core.hub_is_running())
            out.append(a.recv(10))  # the original, blocking recv
            lock.release()
        get_original("_thread", "start_new_thread")(t, ())
        get_original("time", "sleep")(0.05)
        b.sendall(b"plain")
        lock.acquire()
        print(out)
    """)
    assert r.stdout == "[False, b'plain']\n", r.stderr


@pytest.mark.many_fds
def test_ten_thousand_connections_held_and_closed(in_hub, fd_budget):
    n = fd_budget(10000, 2, "connections")  # a client and a server end each
    before = open_fd_count()
    srv = _listener()
    srv.listen(4096)
    server = echo_server(srv)
    clients = []
    try:
        for _ in range(n):
            clients.append(socket.create_connection(srv.getsockname()))
        for c in clients:
            c.sendall(b"p")
        for c in clients:
            assert c.recv(1) == b"p"
    finally:
        # Also when the test fails: the fds must not starve the tests after it.
        for c in clients:
            c.close()
        srv.close()
        server.join(5)
        deadline = time.monotonic() + 20  # the handlers see EOF and close their side
        while open_fd_count() > before + 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    assert open_fd_count() <= before + 2


def test_recv_after_ping_pong_waits_first_and_loses_nothing(in_hub):
    # After recv() found nothing a few times, the next recv waits before it
    # tries (saving a syscall in ping-pong); data already queued, timeouts
    # and the bytes themselves must come out exactly as before.
    a, b = socket.socketpair()
    with a, b:
        a.settimeout(1)

        def echo():
            for _ in range(20):
                b.sendall(b.recv(10).upper())
        t = threading.Thread(target=echo)
        t.start()
        for i in range(20):
            a.sendall(b"ping%02d" % i)
            assert a.recv(10) == b"PING%02d" % i  # found nothing at first: learned
        t.join()
        b.sendall(b"queued")          # already there when recv is called
        assert a.recv(10) == b"queued"
        a.settimeout(0.05)
        start = time.monotonic()
        with pytest.raises(TimeoutError):
            a.recv(10)
        assert 0.04 < time.monotonic() - start < 1
        b.sendall(b"x" * 100000)
        got = bytearray()
        while len(got) < 100000:
            got += a.recv(65536)
        assert got == b"x" * 100000


def test_a_parked_recv_holds_no_buffer(in_hub):
    # recv(n) makes its bytes object only for a try and drops it while it
    # waits with nothing read: 50 threads parked in recv(1 MiB) hold no
    # 50 MiB (python3 holds each buffer for the whole wait). What arrives
    # afterwards comes out whole, and MSG_WAITALL keeps what it has.
    import tracemalloc
    pairs = [socket.socketpair() for _ in range(50)]
    got = {}

    def reader(i, sock, *args):
        got[i] = sock.recv(*args)

    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        threads = [threading.Thread(target=reader, args=(i, a, 1 << 20)) for i, (a, b) in enumerate(pairs)]
        for t in threads:
            t.start()
        time.sleep(0.05)
        parked = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert parked < 2 << 20, parked
    for i, (a, b) in enumerate(pairs):
        b.sendall(b"%d" % i)
    for t in threads:
        t.join()
    assert got == {i: b"%d" % i for i in range(50)}
    a, b = pairs[0]
    t = threading.Thread(target=reader, args=("all", a, 8, socket.MSG_WAITALL))
    t.start()
    b.sendall(b"1234")
    time.sleep(0.02)
    b.sendall(b"5678")
    t.join()
    assert got["all"] == b"12345678"
    b.close()
    t = threading.Thread(target=reader, args=("eof", a, 100))
    t.start()
    t.join()
    assert got["eof"] == b""
    for a, b in pairs:
        a.close()
        b.close()


def test_accept_in_blocking_mode_on_a_nonblocking_fd_raises_as_python3(in_hub):
    # Twisted's adoptStreamPort: fromfd() of a non-blocking listener has
    # timeout None, and the fd's own flag rules.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.setblocking(False)
    adopted = socket.fromfd(listener.fileno(), socket.AF_INET, socket.SOCK_STREAM)
    assert adopted.gettimeout() is None and not os.get_blocking(adopted.fileno())
    with pytest.raises(BlockingIOError) as info:
        adopted.accept()
    assert info.value.errno == errno.EAGAIN
    client = socket.create_connection(listener.getsockname())
    time.sleep(0.01)
    conn, addr = adopted.accept()
    assert addr == client.getsockname()
    for s in (conn, client, adopted, listener):
        s.close()


def test_blocking_mode_on_a_nonblocking_fd_raises_for_every_call_as_python3(in_hub):
    a, b = socket.socketpair()
    os.set_blocking(a.fileno(), False)
    adopted = socket.fromfd(a.fileno(), socket.AF_UNIX, socket.SOCK_STREAM)
    assert adopted.gettimeout() is None
    for call in (lambda: adopted.recv(10), lambda: adopted.recv_into(bytearray(10)),
                 lambda: adopted.recvfrom(10), lambda: adopted.recvmsg(10)):
        with pytest.raises(BlockingIOError):
            call()
    for _ in range(2):  # a second try must not wait first either (recv's habit)
        with pytest.raises(BlockingIOError):
            adopted.recv(10)
    with pytest.raises(BlockingIOError):
        adopted.sendall(b"x" * 10_000_000)  # more than the socket buffers hold
    while True:
        try:
            b.recv(1 << 20)
        except BlockingIOError:
            break
        if not b.getblocking():
            break
        b.setblocking(False)
    b.setblocking(True)
    b.send(b"hi")
    assert adopted.recv(10) == b"hi"
    for s in (adopted, a, b):
        s.close()
