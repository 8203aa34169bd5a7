import os
import select
import socket
import threading
import time

r, w = os.pipe()
print("select none ready", select.select([r], [], [], 0))
print("select writable", select.select([], [w], [], 0))
threading.Timer(0.1, os.write, (w, b"x")).start()
t = time.monotonic()
print("select waits", select.select([r], [], [], 5), time.monotonic() - t < 2)
os.read(r, 1)
t = time.monotonic()
print("select timeout", select.select([r], [], [], 0.1), time.monotonic() - t >= 0.09)
print("select empty lists", select.select([], [], [], 0.05))


class FileLike:
    def __init__(self, fd):
        self.fd = fd

    def fileno(self):
        return self.fd


obj = FileLike(r)
os.write(w, b"y")
ready = select.select([obj, r], [], [], 1)
print("select objects", ready[0][0] is obj, ready[0][1] == r)
os.read(r, 1)

p = select.poll()
p.register(r, select.POLLIN)
print("poll none", p.poll(0))
threading.Timer(0.1, os.write, (w, b"z")).start()
print("poll waits", p.poll(5000))
os.read(r, 1)
p.modify(r, select.POLLIN | select.POLLPRI)
print("poll timeout", p.poll(50))
p.unregister(r)
print("poll nothing registered", p.poll(10))
a, b = socket.socketpair()
p.register(a)
print("poll socket", p.poll(0))
b.close()
print("poll peer closed", sorted(p.poll(0)))
rr, ww = os.pipe()
os.close(rr)
p2 = select.poll()
p2.register(ww, select.POLLOUT)
print("poll reader gone", p2.poll(0))
os.close(ww)
print("poll closed fd", p2.poll(0))
