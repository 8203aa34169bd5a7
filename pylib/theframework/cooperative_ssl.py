"""ssl: TLS over the cooperative socket.

SSLSocket keeps all of its own logic; only the object that talks to OpenSSL
(``_sslobj``) is wrapped, so that its handshake, read, write and shutdown
run through ``core.ssl_io``: OpenSSL is called with the socket non-blocking
for that moment, and WANT_READ / WANT_WRITE become waits on the ring within
the socket's timeout.
"""
from theframework._core import core

_hub_is_running = core.hub_is_running
_ssl_io = core.ssl_io

# python3's own timeout messages (Modules/_ssl.c).
_READ_TIMEOUT = "The read operation timed out"
_WRITE_TIMEOUT = "The write operation timed out"
_HANDSHAKE_TIMEOUT = "_ssl.c:975: The handshake operation timed out"


class CooperativeSSLObject:
    """Stands in for the _ssl._SSLSocket held by an SSLSocket."""

    __slots__ = ("_obj", "_sock")

    def __init__(self, obj, sock):
        self._obj = obj
        self._sock = sock

    def do_handshake(self):
        if not _hub_is_running():
            return self._obj.do_handshake()
        return _ssl_io(self._sock, _HANDSHAKE_TIMEOUT, self._obj.do_handshake)

    def read(self, *args):
        if not _hub_is_running():
            return self._obj.read(*args)
        return _ssl_io(self._sock, _READ_TIMEOUT, self._obj.read, *args)

    def write(self, data):
        if not _hub_is_running():
            return self._obj.write(data)
        return _ssl_io(self._sock, _WRITE_TIMEOUT, self._obj.write, data)

    def shutdown(self):
        if not _hub_is_running():
            return self._obj.shutdown()
        return _ssl_io(self._sock, _READ_TIMEOUT, self._obj.shutdown)

    def __getattr__(self, name):
        return getattr(self._obj, name)

    def __setattr__(self, name, value):
        # SSLSocket sets context and session on its _sslobj (SNI callbacks
        # switch contexts this way): they belong to the wrapped object.
        if name in CooperativeSSLObject.__slots__:
            object.__setattr__(self, name, value)
        else:
            setattr(self._obj, name, value)


def make_sslsocket_class(ssl):
    core.set_ssl_errors(ssl.SSLWantReadError, ssl.SSLWantWriteError)

    class SSLSocket(ssl.SSLSocket):
        __doc__ = ssl.SSLSocket.__doc__

        @property
        def _sslobj(self):
            return self.__dict__.get("_tf_sslobj")

        @_sslobj.setter
        def _sslobj(self, obj):
            if obj is not None and not isinstance(obj, CooperativeSSLObject):
                obj = CooperativeSSLObject(obj, self)
            self.__dict__["_tf_sslobj"] = obj

    SSLSocket.__module__ = "ssl"
    SSLSocket.__qualname__ = SSLSocket.__name__ = "SSLSocket"
    return SSLSocket
