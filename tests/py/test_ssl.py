"""TLS over cooperative sockets: handshakes, reads and writes wait on the
hub, with python3's timeout errors."""
import socket
import ssl
import threading
import time

import pytest

trustme = pytest.importorskip("trustme")


@pytest.fixture(scope="module")
def contexts():
    ca = trustme.CA()
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(server)
    client = ssl.create_default_context()
    ca.configure_trust(client)
    return server, client


def tls_server(server_ctx, handler):
    srv = socket.create_server(("127.0.0.1", 0))

    def serve():
        conn, _ = srv.accept()
        with server_ctx.wrap_socket(conn, server_side=True) as s:
            handler(s)
    threading.Thread(target=serve, daemon=True).start()
    return srv


def test_tls_echo_is_cooperative(in_hub, contexts):
    server_ctx, client_ctx = contexts

    def upper(s):
        while data := s.recv(65536):
            s.sendall(data.upper())
    srv = tls_server(server_ctx, upper)
    ticks = []
    threading.Thread(target=lambda: [ticks.append(1) or time.sleep(0.001) for _ in range(10)],
                     daemon=True).start()
    payload = b"tls bytes " * 50000
    with socket.create_connection(("localhost", srv.getsockname()[1])) as raw, \
            client_ctx.wrap_socket(raw, server_hostname="localhost") as s:
        assert isinstance(s, ssl.SSLSocket)
        s.sendall(payload)
        got = bytearray()
        while len(got) < len(payload):
            got.extend(s.recv(1 << 16))
        assert bytes(got) == payload.upper()
    assert ticks  # another greenlet ran while this one waited inside TLS calls
    srv.close()


def test_tls_read_timeout_is_python3s(in_hub, contexts):
    server_ctx, client_ctx = contexts
    done = threading.Event()
    srv = tls_server(server_ctx, lambda s: done.wait(5))
    with socket.create_connection(("localhost", srv.getsockname()[1])) as raw, \
            client_ctx.wrap_socket(raw, server_hostname="localhost") as s:
        s.settimeout(0.05)
        t0 = time.monotonic()
        with pytest.raises(TimeoutError, match="The read operation timed out"):
            s.recv(10)
        assert time.monotonic() - t0 < 2
    done.set()
    srv.close()


def test_tls_handshake_timeout_when_the_peer_is_silent(in_hub, contexts):
    _, client_ctx = contexts
    srv = socket.create_server(("127.0.0.1", 0))  # accepts TCP, never speaks TLS
    raw = socket.create_connection(("localhost", srv.getsockname()[1]))
    raw.settimeout(0.05)
    with pytest.raises(TimeoutError, match="handshake operation timed out"):
        client_ctx.wrap_socket(raw, server_hostname="localhost")
    raw.close()
    srv.close()


def test_sni_callback_switches_the_context_and_sessions_resume(in_hub):
    # SSLSocket sets .context (an SNI callback's usual move) and .session
    # on its _sslobj: they must reach the wrapped OpenSSL object.
    ca = trustme.CA()
    fallback = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("other.test").configure_cert(fallback)
    chosen = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(chosen)
    chosen.maximum_version = fallback.maximum_version = ssl.TLSVersion.TLSv1_2  # sessions by ID
    seen = []

    def pick(sslobj, server_name, ctx):
        seen.append(server_name)
        sslobj.context = chosen

    fallback.sni_callback = pick
    client = ssl.create_default_context()
    ca.configure_trust(client)
    srv = socket.create_server(("127.0.0.1", 0))

    def serve(n):
        for _ in range(n):
            conn, _ = srv.accept()
            with fallback.wrap_socket(conn, server_side=True) as s:
                s.sendall(s.recv(100).upper())
    threading.Thread(target=serve, args=(2,), daemon=True).start()
    port = srv.getsockname()[1]
    with socket.create_connection(("127.0.0.1", port)) as raw, \
            client.wrap_socket(raw, server_hostname="localhost") as s:
        s.sendall(b"hello")
        assert s.recv(100) == b"HELLO"
        assert s.context is client
        session = s.session
    assert seen == ["localhost"]
    with socket.create_connection(("127.0.0.1", port)) as raw, \
            client.wrap_socket(raw, server_hostname="localhost", session=session) as s:
        s.sendall(b"again")
        assert s.recv(100) == b"AGAIN"
        assert s.session_reused
    srv.close()


def tls_pair(server_ctx, client_ctx):
    """A connected (server, client) pair of blocking-mode SSLSockets."""
    srv = socket.create_server(("127.0.0.1", 0))
    raw = socket.create_connection(srv.getsockname())
    conn, _ = srv.accept()
    srv.close()
    box = []
    t = threading.Thread(target=lambda: box.append(server_ctx.wrap_socket(conn, server_side=True)))
    t.start()
    client = client_ctx.wrap_socket(raw, server_hostname="localhost")
    t.join()
    return box[0], client


def test_tls_calls_leave_the_fd_blocking(in_hub, contexts):
    # The fd's O_NONBLOCK belongs to the open file description, which a
    # dup, another OS thread or a child shares: TLS calls in the hub must
    # never set it (they used to, around every OpenSSL call). A real OS
    # thread watches the flag while greenlets run TLS echo traffic.
    import _framework_core
    import fcntl
    import os
    from theframework.monkey import get_original
    server, client = tls_pair(*contexts)
    assert _framework_core.ssl_bio_adopted(server) and _framework_core.ssl_bio_adopted(client)
    assert server.getblocking() and client.getblocking()
    watched = os.dup(client.fileno())
    seen, stop = [], []

    def watch():
        while not stop:
            seen.append(fcntl.fcntl(watched, fcntl.F_GETFL) & os.O_NONBLOCK)
    watcher = get_original("threading", "Thread")(target=watch)
    watcher.start()

    def echo():
        with server:
            while data := server.recv(100):
                server.sendall(data)
    echoer = threading.Thread(target=echo)
    echoer.start()
    deadline = time.monotonic() + 0.3
    rounds = 0
    while time.monotonic() < deadline:
        client.sendall(b"ping %d" % rounds)
        assert client.recv(100) == b"ping %d" % rounds
        rounds += 1
    stop.append(1)
    watcher.join()
    os.close(watched)
    assert rounds > 50 and seen
    assert not any(seen), "a TLS call made the fd non-blocking"
    assert not fcntl.fcntl(client.fileno(), fcntl.F_GETFL) & os.O_NONBLOCK
    client.close()
    echoer.join(5)


def test_an_sslsocket_dropped_without_close_closes_its_fd(in_hub, contexts):
    # As in python3: nothing of ours holds the SSLSocket in a cycle, so the
    # last reference going closes the fd at once, without the collector.
    import gc
    import os
    server, client = tls_pair(*contexts)
    fd = client.fileno()
    gc.disable()
    try:
        del client
        with pytest.raises(OSError):
            os.fstat(fd)
    finally:
        gc.enable()
    server.close()


def test_recv_after_close_notify_returns_at_once(in_hub, contexts):
    # The peer ends TLS (close_notify) but keeps the TCP connection open:
    # every later recv() returns b"" at once, as in python3, even on the
    # engine whose reads wait for readiness first when the last try found
    # nothing (OpenSSL answers this one without the socket).
    server, client = tls_pair(*contexts)
    client.settimeout(5)
    done = threading.Event()

    def peer():
        time.sleep(0.05)  # the client's recv below tries first and finds nothing
        server.sendall(b"last")
        time.sleep(0.05)
        server.unwrap().detach()  # close_notify; the socket stays open
        done.wait(5)
    threading.Thread(target=peer, daemon=True).start()
    assert client.recv(10) == b"last"
    t0 = time.monotonic()
    assert client.recv(10) == b""
    assert client.recv(10) == b""
    assert time.monotonic() - t0 < 1
    done.set()
    client.close()


def test_a_real_os_thread_reads_an_adopted_connection_as_python3(in_hub, contexts):
    # Outside the hub the connection's BIO is OpenSSL's own socket BIO
    # (blocking read(2) on a blocking fd): an OS thread's recv waits in the
    # kernel, without spinning, and gets the bytes.
    import _framework_core
    import resource
    from theframework.monkey import get_original
    server, client = tls_pair(*contexts)
    assert _framework_core.ssl_bio_adopted(client)
    got = []
    reader = get_original("threading", "Thread")(
        target=lambda: got.append((client.recv(100), resource.getrusage(resource.RUSAGE_THREAD))))
    reader.start()
    time.sleep(0.3)
    server.sendall(b"from the hub")
    reader.join(5)
    assert got and got[0][0] == b"from the hub"
    usage = got[0][1]
    assert usage.ru_utime + usage.ru_stime < 0.15  # it slept in read(2) for 0.3 s
    client.close()
    server.close()


def test_tls_socket_methods_are_c_and_stay_cooperative(in_hub, contexts):
    """recv, recv_into, read, send, sendall and write of the cooperative
    SSLSocket are C (core/ssl/ssl_socket.cpp); a TLS echo through each
    still lets other greenlets run while it waits (python3's results for
    every case are checked by the parity case script-ssl-socket-methods)."""
    server_ctx, client_ctx = contexts
    cls = client_ctx.sslsocket_class
    names = ("recv", "recv_into", "read", "send", "sendall", "write")
    assert all(type(cls.__dict__[n]).__name__ == "method_descriptor" for n in names)

    ended = threading.Event()

    def echo(s):
        buf = bytearray(65536)
        while n := s.recv_into(buf):
            s.send(bytes(buf[:n]))
        ended.set()
    srv = tls_server(server_ctx, echo)
    ticks = []
    threading.Thread(target=lambda: [ticks.append(1) or time.sleep(0.001) for _ in range(10)],
                     daemon=True).start()
    with socket.create_connection(("localhost", srv.getsockname()[1])) as raw, \
            client_ctx.wrap_socket(raw, server_hostname="localhost") as s:
        for data in (b"one", bytearray(b"two" * 1000), memoryview(b"three")):
            s.sendall(data)
            got = bytearray()
            while len(got) < len(data):
                got += s.read(65536)
            assert got == data
        s.write(b"four")
        assert s.recv(10) == b"four"
    assert ended.wait(5)  # the server's thread saw the end (none is left for later tests)
    assert ticks
    srv.close()
