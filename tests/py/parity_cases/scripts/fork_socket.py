import os
import socket

a, b = socket.socketpair()
pid = os.fork()
if pid == 0:
    a.close()
    data = b.recv(100)
    b.sendall(data[::-1])
    os._exit(0)
b.close()
a.sendall(b"reversed by the child")
print(a.recv(100))
_, status = os.waitpid(pid, 0)
print("child exit", os.waitstatus_to_exitcode(status))
