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
