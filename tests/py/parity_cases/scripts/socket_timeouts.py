import socket
import time

print("default timeout", socket.getdefaulttimeout())
a, b = socket.socketpair()
print("blocking", a.getblocking(), a.gettimeout())
a.settimeout(0.1)
print("timeout", a.getblocking(), a.gettimeout())
t = time.monotonic()
try:
    a.recv(1)
except TimeoutError as exc:
    print("recv", type(exc).__name__, exc, exc.errno, socket.timeout is TimeoutError,
          0.09 < time.monotonic() - t < 2)
a.settimeout(0)
print("non-blocking", a.getblocking(), a.gettimeout())
try:
    a.recv(1)
except BlockingIOError as exc:
    print("recv", type(exc).__name__, exc)
socket.setdefaulttimeout(0.1)
s = socket.socket()
print("new socket timeout", s.gettimeout())
s.bind(("127.0.0.1", 0))
s.listen()
try:
    s.accept()
except TimeoutError as exc:
    print("accept", type(exc).__name__, exc)
c = socket.socket()
c.settimeout(0.5)
print("connect_ex refused", c.connect_ex(("127.0.0.1", 1)))
c.close()
a.settimeout(0.1)
a.setblocking(True)
print("setblocking(True)", a.gettimeout())
for x in (a, b, s):
    x.close()
