import os
import pickle
import socket

print("first fds", os.open("/dev/null", os.O_RDONLY), socket.socket().fileno())
s = socket.socket()
print(repr(s))
print(type(s).__name__, type(s).__module__, type(s).__qualname__)
print(isinstance(s, socket.socket), isinstance(s, socket.SocketType), issubclass(socket.socket, socket.SocketType))
d = s.dup()
print("dup", type(d).__name__, d.family, d.type)
fd = s.detach()
print("detach", s.fileno(), repr(s)[:40])
s2 = socket.socket(fileno=fd)
print("fileno=", s2.family, s2.type)
f = socket.fromfd(s2.fileno(), socket.AF_INET, socket.SOCK_STREAM)
print("fromfd", type(f).__name__)


class MySocket(socket.socket):
    pass


m = MySocket()
print("subclass", repr(m).split(" fd=")[0], isinstance(m, socket.socket))
for x in (d, s2, f, m):
    x.close()
print(socket.socket.__doc__.splitlines()[0])
print(socket.socket.recv.__doc__.splitlines()[0])
print(socket.socket.connect.__doc__.splitlines()[0])
print(socket.getaddrinfo.__doc__.splitlines()[0])
print("closed repr", repr(d))
with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
    print(repr(u).replace(str(u.fileno()), "N"))
