import os
import socket
import tempfile
import threading

with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as a, \
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as b:
    b.bind(("127.0.0.1", 0))
    a.sendto(b"datagram", b.getsockname())
    data, addr = b.recvfrom(100)
    print("udp", data, addr == a.getsockname())
    a.sendto(b"into", 0, b.getsockname())
    buf = bytearray(10)
    n, addr = b.recvfrom_into(buf)
    print("udp into", n, bytes(buf[:n]))

path = os.path.join(tempfile.mkdtemp(), "sock")
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
srv.listen()


def serve():
    conn, _ = srv.accept()
    with conn:
        msg, anc, flags, addr = conn.recvmsg(100)
        conn.sendmsg([b"got ", msg])


t = threading.Thread(target=serve)
t.start()
with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as c:
    c.connect(path)
    c.sendmsg([b"unix ", b"message"])
    print("unix", c.recv(100))
t.join()
srv.close()
os.unlink(path)

# fds passed over a unix socketpair
a, b = socket.socketpair()
r, w = os.pipe()
socket.send_fds(a, [b"fd"], [w])
msg, fds, flags, addr = socket.recv_fds(b, 10, 1)
os.write(fds[0], b"through the passed fd")
print("send_fds", msg, os.read(r, 100))
