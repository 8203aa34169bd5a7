"""Name resolution off the hub: the blocking resolver functions run on the
hub's thread pool while the calling thread or greenlet waits on the
eventfd. Numeric addresses are answered at once, without a thread. Errors
are python3's (socket.gaierror, socket.herror), raised in the caller."""
import _socket
from operator import index as _index

from theframework._core import core as _core
from theframework.threadpool import run_in_thread

_originals = {}


def is_numeric_host(host, family=0):
    if host is None:
        return True
    if isinstance(host, bytes):
        try:
            host = host.decode("ascii")
        except UnicodeDecodeError:
            return False
    if not isinstance(host, str):
        return False
    families = [family] if family in (_socket.AF_INET, _socket.AF_INET6) else [_socket.AF_INET, _socket.AF_INET6]
    for fam in families:
        try:
            _socket.inet_pton(fam, host.split("%", 1)[0] if fam == _socket.AF_INET6 else host)
            return True
        except (OSError, ValueError):
            pass
    return False


def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
    original = _originals["getaddrinfo"]
    if flags & _socket.AI_NUMERICHOST or is_numeric_host(host, family):
        return original(host, port, family, type, proto, flags)
    return run_in_thread(original, host, port, family, type, proto, flags)


def gethostbyname(hostname):
    original = _originals["gethostbyname"]
    if is_numeric_host(hostname, _socket.AF_INET):
        return original(hostname)
    return run_in_thread(original, hostname)


def gethostbyname_ex(hostname):
    return run_in_thread(_originals["gethostbyname_ex"], hostname)


def gethostbyaddr(ip_address):
    return run_in_thread(_originals["gethostbyaddr"], ip_address)


def getnameinfo(sockaddr, flags):
    original = _originals["getnameinfo"]
    numeric = _socket.NI_NUMERICHOST | _socket.NI_NUMERICSERV
    try:
        flags = _index(flags)
    except TypeError:
        return original(sockaddr, flags)  # python3's error
    if flags & numeric == numeric:
        return original(sockaddr, flags)
    # The original, asked for numbers only, checks the arguments as python3
    # does (and raises its audit event) without a lookup; the lookup itself
    # runs with the GIL released (CPython 3.11 keeps it: name_info.cpp).
    original(sockaddr, (flags & ~_socket.NI_NAMEREQD) | numeric)
    return run_in_thread(_core.resolve_nameinfo, sockaddr, flags)


def install(socket_module):
    """Replacements for socket_module's resolver functions, with the
    originals remembered for the worker threads."""
    replacements = {}
    for name, fn in (("getaddrinfo", getaddrinfo), ("gethostbyname", gethostbyname),
                     ("gethostbyname_ex", gethostbyname_ex), ("gethostbyaddr", gethostbyaddr),
                     ("getnameinfo", getnameinfo)):
        _originals.setdefault(name, getattr(socket_module, name))
        fn.__doc__ = _originals[name].__doc__
        replacements[name] = fn
    return replacements
