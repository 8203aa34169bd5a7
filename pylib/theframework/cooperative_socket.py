"""The cooperative socket class.

It derives from the standard library's ``socket.socket`` (so isinstance,
``ssl`` and the Python-level helpers keep working) with
``_framework_core.SocketBase`` first in its bases: recv, recv_into, send,
sendall and _accept are C++ there (the hot path). The colder methods below
try the call with MSG_DONTWAIT and wait on the ring on EAGAIN, through
``core.sock_io``. Outside the hub, and on non-blocking sockets, every
method is the original.
"""
import _socket

from theframework._core import core

_POLLIN = 0x001
_POLLOUT = 0x004
_DONTWAIT = _socket.MSG_DONTWAIT
_C = _socket.socket
_hub_is_running = core.hub_is_running
_sock_io = core.sock_io
_claim_fd = core.claim_fd
_FOREVER = 20 * 86400.0  # the largest timeout CPython takes is ~24.8 days


def _cooperative(sock):
    return _hub_is_running() and _C.gettimeout(sock) != 0


def _call(sock, events, method, args, flags_at, defaults):
    """method(sock, *args) with MSG_DONTWAIT added to its flags argument
    (position ``flags_at``; missing optional arguments take ``defaults``),
    waiting for ``events`` whenever it would block."""
    if not _cooperative(sock) or len(args) + len(defaults) <= flags_at:
        return method(sock, *args)  # python3's own errors for bad arguments
    args = list(args) + list(defaults[len(args) - (flags_at + 1 - len(defaults)):]) \
        if len(args) <= flags_at else list(args)
    flags = args[flags_at]
    if not isinstance(flags, int) or flags & _DONTWAIT:
        return method(sock, *args)
    args[flags_at] = flags | _DONTWAIT
    return _sock_io(sock, events, method, *args)


def _numeric_address(sock, address):
    """Resolve a host name in an INET/INET6 address cooperatively, keeping
    the rest of the tuple, as CPython's connect would (but off the hub)."""
    family = _C.family.__get__(sock)
    if family not in (_socket.AF_INET, _socket.AF_INET6) or not isinstance(address, tuple) \
            or len(address) < 2 or not isinstance(address[0], str):
        return address
    host = address[0]
    from theframework import dns
    if host in ("", "<broadcast>") or dns.is_numeric_host(host, family):
        return address
    infos = dns.getaddrinfo(host, None, family)
    return (infos[0][4][0],) + address[1:]


def make_socket_class(std_socket):
    """A cooperative subclass of the standard library's socket class."""
    core.set_address_resolver(_numeric_address)

    class socket(core.SocketBase, std_socket):
        __slots__ = ()
        __doc__ = std_socket.__doc__

        def __init__(self, *args, **kwargs):
            std_socket.__init__(self, *args, **kwargs)
            _claim_fd(self)  # the hub's engine learns the fd afresh for this owner

        def recvfrom(self, *args):
            return _call(self, _POLLIN, _C.recvfrom, args, 1, (0,))

        def recvfrom_into(self, *args, **kwargs):
            if kwargs:
                names = ("buffer", "nbytes", "flags")
                if set(kwargs) - set(names):
                    return _C.recvfrom_into(self, *args, **kwargs)
                args = args + tuple(kwargs.get(n, d) for n, d in zip(names[len(args):], (None, 0, 0)))
            return _call(self, _POLLIN, _C.recvfrom_into, args, 2, (0, 0))

        def recvmsg(self, *args):
            return _call(self, _POLLIN, _C.recvmsg, args, 2, (0, 0))

        def recvmsg_into(self, *args):
            return _call(self, _POLLIN, _C.recvmsg_into, args, 2, (0, 0))

        def sendto(self, *args):
            if len(args) == 2:  # sendto(data, address)
                args = (args[0], 0, args[1])
            return _call(self, _POLLOUT, _C.sendto, args, 1, ())

        def sendmsg(self, *args):
            if len(args) == 4:
                return _call(self, _POLLOUT, _C.sendmsg, args, 2, ())
            return _call(self, _POLLOUT, _C.sendmsg, args, 2, ((), 0))

        def _sendfile_use_sendfile(self, file, offset=0, count=None):
            if not _cooperative(self) or _C.gettimeout(self) is not None:
                return std_socket._sendfile_use_sendfile(self, file, offset, count)
            # A blocking-mode socket: zero-copy os.sendfile needs it
            # non-blocking, which a timeout gives; the timeout is the
            # caller's "forever" and is put back afterwards.
            _C.settimeout(self, _FOREVER)
            try:
                return std_socket._sendfile_use_sendfile(self, file, offset, count)
            finally:
                _C.settimeout(self, None)

        def _real_close(self, _ss=_C):
            fd = _C.fileno(self)
            if fd >= 0 and _hub_is_running():
                core.fd_closing(fd)  # wake the threads and greenlets waiting on it first
            _ss.close(self)

    for name, value in vars(socket).items():
        if callable(value) and getattr(value, "__doc__", None) is None:
            original = getattr(_C, name, None) or getattr(std_socket, name, None)
            if original is not None and original.__doc__:
                value.__doc__ = original.__doc__
    socket.__module__ = std_socket.__module__
    socket.__qualname__ = std_socket.__qualname__
    socket.__name__ = std_socket.__name__
    return socket
