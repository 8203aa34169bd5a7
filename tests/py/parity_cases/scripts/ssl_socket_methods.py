"""SSLSocket's recv, recv_into, read, send, sendall and write (C methods
under tfpython) give python3's results and errors, including the calls
they hand to python3's own methods: flags, bad arguments, a subclass or an
instance attribute overriding read, ragged EOFs, closed sockets."""
import array
import socket
import ssl
import threading

import trustme

ca = trustme.CA()
server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ca.issue_cert("localhost").configure_cert(server_ctx)
client_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ca.configure_trust(client_ctx)


# EOF in the middle of a record is an error (SSLEOFError), not the end.
strict_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ca.issue_cert("localhost").configure_cert(strict_ctx)
strict_ctx.options &= ~ssl.OP_IGNORE_UNEXPECTED_EOF


def pair(ctx=server_ctx, **server_kw):
    """A connected (server, client) pair of SSLSockets over a socketpair."""
    a, b = socket.socketpair()
    made = {}
    t = threading.Thread(target=lambda: made.setdefault(
        "s", ctx.wrap_socket(a, server_side=True, **server_kw)))
    t.start()
    c = client_ctx.wrap_socket(b, server_hostname="localhost")
    t.join()
    return made["s"], c


def show(label, call):
    try:
        result = call()
    except Exception as e:  # the message, not the traceback: no ssl.py frames under tfpython
        result = "%s: %s" % (type(e).__name__, e)
    print(label, repr(result))


s, c = pair()
buf = bytearray(10)
show("sendall bytes", lambda: c.sendall(b"hello"))
show("recv", lambda: s.recv(3))
show("recv default", lambda: s.recv())
show("sendall bytearray", lambda: c.sendall(bytearray(b"abc")))
show("recv_into", lambda: (s.recv_into(buf), bytes(buf)))
show("sendall array", lambda: c.sendall(array.array("i", [1, 2])))
show("read", lambda: s.read(100))
show("send", lambda: c.send(b"xyz"))
show("recv_into nbytes", lambda: (s.recv_into(buf, 2), bytes(buf)))
show("read buffer", lambda: (s.read(5, buf), bytes(buf)))
show("write", lambda: c.write(memoryview(b"0123456789")[2:5]))
show("recv keyword", lambda: s.recv(buflen=10))
show("sendall keyword", lambda: c.sendall(data=b"kw", flags=0))
show("recv_into keywords", lambda: (s.recv_into(nbytes=1, buffer=buf), bytes(buf)))
show("read keyword", lambda: s.read(len=5))
show("sendall empty", lambda: c.sendall(b""))
c.sendall(b"for None")
show("recv_into None", lambda: s.recv_into(None))
show("recv flags", lambda: s.recv(10, 1))
show("recv flags keyword", lambda: s.recv(10, flags=socket.MSG_PEEK))
show("recv flags False", lambda: (c.sendall(b"f"), s.recv(10, False)))
show("send flags", lambda: c.send(b"x", 1))
show("sendall flags", lambda: c.sendall(b"x", flags=1))
show("recv_into flags", lambda: s.recv_into(buf, flags=1))
show("recv unknown keyword", lambda: s.recv(bufsize=10))
show("recv too many", lambda: s.recv(1, 0, 0))
show("recv str", lambda: s.recv("10"))
show("recv negative", lambda: s.recv(-1))
show("recv_into bytes", lambda: s.recv_into(b"immutable"))
show("recv_into no buffer", lambda: s.recv_into())
show("sendall str", lambda: c.sendall("text"))
show("sendall non-contiguous", lambda: c.sendall(memoryview(b"abcdef")[::2]))
show("send str", lambda: c.send("text"))
show("write no data", lambda: c.write())
show("write twice", lambda: c.write(b"a", b"b"))

# A large sendall while the peer reads in another thread.
data = bytes(range(256)) * 8192
got = bytearray()


def read_all():
    while len(got) < len(data):
        got.extend(s.recv(65536))


reader = threading.Thread(target=read_all)
reader.start()
show("sendall 2 MiB", lambda: c.sendall(data))
reader.join()
print("received", len(got), bytes(got) == data)


# A subclass overriding read, and read set on the instance: recv calls them.
class Loud(type(s)):
    def read(self, len=1024, buffer=None):
        print("Loud.read", len, buffer is None)
        return super().read(len, buffer)


plain = type(s)
s.__class__ = Loud
c.sendall(b"subclass")
show("subclass recv", lambda: s.recv(10))
show("subclass recv_into", lambda: (c.sendall(b"sub2"), s.recv_into(buf))[1])
s.__class__ = plain
original_read = s.read
s.read = lambda *args: (print("instance read", args), original_read(*args))[1]
c.sendall(b"instance")
show("instance recv", lambda: s.recv(10))
del s.read
show("plain again", lambda: (c.sendall(b"plain"), s.recv(10))[1])

# Ragged EOF: the peer's TCP ends without a TLS close_notify.
socket.socket.shutdown(c, socket.SHUT_RDWR)
show("ragged recv", lambda: s.recv(10))
show("ragged recv_into", lambda: s.recv_into(buf))
show("ragged read", lambda: s.read(10))
s.close()
c.close()
s, c = pair(suppress_ragged_eofs=False)
socket.socket.shutdown(c, socket.SHUT_RDWR)
show("ragged recv, not suppressed", lambda: s.recv(10))
show("ragged read, not suppressed", lambda: s.read(10))
s.close()
c.close()

# A record cut short by the peer's EOF (SSLEOFError), suppressed or not,
# and a record that fails to decrypt (another SSLError).
for suppress in (True, False):
    s, c = pair(strict_ctx, suppress_ragged_eofs=suppress)
    socket.socket.sendall(c, b"\x17\x03\x03\x00\x40partial")
    socket.socket.shutdown(c, socket.SHUT_RDWR)
    show("cut record, suppress %s: recv" % suppress, lambda: s.recv(10))
    s.close()
    c.close()
    s, c = pair(strict_ctx, suppress_ragged_eofs=suppress)
    socket.socket.sendall(c, b"\x17\x03")
    socket.socket.shutdown(c, socket.SHUT_RDWR)
    show("cut record, suppress %s: recv_into" % suppress, lambda: s.recv_into(buf))
    s.close()
    c.close()
s, c = pair()
socket.socket.sendall(c, b"\x17\x03\x03\x00\x20" + b"x" * 32)
show("bad record", lambda: s.recv(10))
show("closed send", lambda: (c.close(), c.send(b"x"))[1])
show("closed sendall", lambda: c.sendall(b"x"))
show("closed recv", lambda: c.recv(10))
show("closed read", lambda: c.read(10))
show("closed write", lambda: c.write(b"x"))
s.close()

# unwrap: afterwards recv and sendall are the plain socket's.
s, c = pair()
t = threading.Thread(target=lambda: c.unwrap())
t.start()
plain_s = s.unwrap()
t.join()
show("unwrapped sendall", lambda: c.sendall(b"clear"))
show("unwrapped recv", lambda: s.recv(10))
show("unwrapped read", lambda: s.read(10))
print("methods", [type(getattr(client_ctx.sslsocket_class, m)).__name__ in ("function", "method_descriptor")
                  for m in ("recv", "recv_into", "read", "send", "sendall", "write")])
