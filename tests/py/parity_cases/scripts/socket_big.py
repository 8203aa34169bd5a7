# sendall of 8 MiB through a socketpair, read by a thread; then makefile().
import hashlib
import socket
import threading

a, b = socket.socketpair()
payload = bytes(range(256)) * (8 * 4096)
got = []


def reader():
    h, n = hashlib.sha256(), 0
    while data := b.recv(65536):
        h.update(data)
        n += len(data)
    got.append((n, h.hexdigest() == hashlib.sha256(payload).hexdigest()))


t = threading.Thread(target=reader)
t.start()
a.sendall(payload)
a.shutdown(socket.SHUT_WR)
t.join()
print("received", got)

a2, b2 = socket.socketpair()
a2.sendall(b"line one\nline two\n")
a2.close()
with b2.makefile("r") as f:
    print(f.readlines())
b2.close()
a.close()
b.close()
