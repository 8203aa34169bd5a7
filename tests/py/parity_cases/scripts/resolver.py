import socket
import traceback


def show(name, fn, *args):
    try:
        result = fn(*args)
    except Exception as exc:
        print(f"{name:28}", traceback.format_exception_only(exc)[-1], end="")
    else:
        print(f"{name:28}", result)


show("getaddrinfo localhost", lambda: sorted(set(
    (f, t, a[0]) for f, t, p, c, a in socket.getaddrinfo("localhost", 80, type=socket.SOCK_STREAM))))
show("getaddrinfo numeric", socket.getaddrinfo, "127.0.0.1", 80, 0, socket.SOCK_STREAM)
show("getaddrinfo None", socket.getaddrinfo, None, 80, socket.AF_INET, socket.SOCK_STREAM, 0,
     socket.AI_PASSIVE)
show("getaddrinfo service", socket.getaddrinfo, "127.0.0.1", "http", socket.AF_INET, socket.SOCK_STREAM)
show("getaddrinfo bad service", socket.getaddrinfo, "127.0.0.1", "no-such-service", socket.AF_INET,
     socket.SOCK_STREAM)
show("getaddrinfo bad host", socket.getaddrinfo, "no-such-host.invalid", 80)
show("getaddrinfo bad type", socket.getaddrinfo, 1, 80)
show("getaddrinfo kwargs", lambda: socket.getaddrinfo(host="127.0.0.1", port=1, family=socket.AF_INET,
                                                      type=socket.SOCK_DGRAM))
show("getaddrinfo no args", socket.getaddrinfo)
show("gethostbyname localhost", socket.gethostbyname, "localhost")
show("gethostbyname numeric", socket.gethostbyname, "127.0.0.1")
show("gethostbyname bad", socket.gethostbyname, "no-such-host.invalid")
show("gethostbyname bytes", socket.gethostbyname, b"localhost")
show("gethostbyname_ex localhost", lambda: socket.gethostbyname_ex("localhost")[2])
show("gethostbyaddr 127.0.0.1", lambda: socket.gethostbyaddr("127.0.0.1")[2])
show("gethostbyaddr bad", socket.gethostbyaddr, "not an address")
show("getnameinfo numeric", socket.getnameinfo, ("127.0.0.1", 80),
     socket.NI_NUMERICHOST | socket.NI_NUMERICSERV)
show("getnameinfo", socket.getnameinfo, ("127.0.0.1", 80), 0)
show("getnameinfo bad", socket.getnameinfo, "x", 0)
show("getfqdn matches", lambda: socket.getfqdn() == socket.getfqdn(socket.gethostname()))
show("create_connection bad host", socket.create_connection, ("no-such-host.invalid", 80), 2)
show("connect by name", lambda: socket.socket().connect(("localhost", 1)))
show("doc", lambda: socket.getaddrinfo.__doc__.splitlines()[0])
show("names", lambda: [f.__name__ for f in (socket.getaddrinfo, socket.gethostbyname,
                                            socket.getnameinfo)])
