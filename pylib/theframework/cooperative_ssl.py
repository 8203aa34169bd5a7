"""ssl: TLS over the cooperative socket.

SSLSocket keeps all of its own logic; only the object that talks to OpenSSL
(``_sslobj``) is wrapped, by ``core.CooperativeSSLObject`` (C,
core/ssl/ssl.cpp): its handshake, read, write and shutdown are tried
without blocking and WANT_READ / WANT_WRITE become waits on the hub within
the socket's timeout. The fd's blocking mode is never changed: the
connection's socket BIO is given MSG_DONTWAIT reads and writes for those
calls (core/ssl/tls_bio.cpp).

recv, recv_into, read, send, sendall and write are C methods
(core/ssl/ssl_socket.cpp) doing what ssl.SSLSocket's Python ones do without
their interpreter cost; any call they do not expect (a subclass overriding
what they rely on, non-zero flags, an unwrapped socket) goes to python3's.
"""
from theframework._core import core


def make_sslsocket_class(ssl):
    core.set_ssl_errors(ssl.SSLWantReadError, ssl.SSLWantWriteError)

    class SSLSocket(ssl.SSLSocket):
        __doc__ = ssl.SSLSocket.__doc__
        # A C data descriptor: setting it wraps the _ssl object.
        _sslobj = core.SSLObjectSlot()

    SSLSocket.__module__ = "ssl"
    SSLSocket.__qualname__ = SSLSocket.__name__ = "SSLSocket"
    core.install_sslsocket_methods(SSLSocket, ssl)
    return SSLSocket
