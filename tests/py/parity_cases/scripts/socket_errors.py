# The error each misuse raises (type and message), one line each.
import socket
import traceback

a, b = socket.socketpair()
srv = socket.socket()
closed = socket.socket()
closed.close()
nb = socket.socket()
nb.setblocking(False)
r_nb, w_nb = socket.socketpair()
r_nb.setblocking(False)

attempts = {
    "recv()": lambda: a.recv(),
    "recv(-1)": lambda: a.recv(-1),
    "recv('x')": lambda: a.recv("x"),
    "recv(1, 'x')": lambda: a.recv(1, "x"),
    "recv(1, 0, 0)": lambda: a.recv(1, 0, 0),
    "recv_into(b'')": lambda: a.recv_into(b""),
    "recv_into(ba, 5)": lambda: a.recv_into(bytearray(2), 5),
    "recv_into(ba, -1)": lambda: a.recv_into(bytearray(2), -1),
    "recv_into()": lambda: a.recv_into(),
    "recv_into(buffer=1)": lambda: a.recv_into(buffer=1),
    "recvfrom()": lambda: a.recvfrom(),
    "recvfrom(-1)": lambda: a.recvfrom(-1),
    "recvfrom_into(b'')": lambda: a.recvfrom_into(b""),
    "recvmsg(-1)": lambda: a.recvmsg(-1),
    "send('str')": lambda: a.send("str"),
    "send()": lambda: a.send(),
    "send(b'x', 'f')": lambda: a.send(b"x", "f"),
    "sendall(None)": lambda: a.sendall(None),
    "sendall('str')": lambda: a.sendall("str"),
    "sendto(b'x')": lambda: a.sendto(b"x"),
    "sendto(b'x', 1, 2, 3)": lambda: a.sendto(b"x", 1, 2, 3),
    "sendmsg('x')": lambda: a.sendmsg("x"),
    "connect()": lambda: srv.connect(),
    "connect('x')": lambda: srv.connect("x"),
    "connect(('127.0.0.1',))": lambda: srv.connect(("127.0.0.1",)),
    "connect(('127.0.0.1', 'p'))": lambda: srv.connect(("127.0.0.1", "p")),
    "connect(('127.0.0.1', 70000))": lambda: srv.connect(("127.0.0.1", 70000)),
    "connect_ex()": lambda: srv.connect_ex(),
    "accept() not listening": lambda: srv.accept(),
    "closed.recv(1)": lambda: closed.recv(1),
    "closed.send(b'x')": lambda: closed.send(b"x"),
    "closed.sendall(b'x')": lambda: closed.sendall(b"x"),
    "closed.accept()": lambda: closed.accept(),
    "closed.connect()": lambda: closed.connect(("127.0.0.1", 1)),
    "closed.recvfrom(1)": lambda: closed.recvfrom(1),
    "closed.fileno()": lambda: closed.fileno(),
    "nonblocking recv": lambda: r_nb.recv(1),
    "nonblocking accept": lambda: (nb.bind(("127.0.0.1", 0)), nb.listen(), nb.accept()),
    "settimeout(-1)": lambda: a.settimeout(-1),
    "settimeout('x')": lambda: a.settimeout("x"),
    "socket(99)": lambda: socket.socket(99),
    "socket(fileno=-5)": lambda: socket.socket(fileno=-5),
    "pickle": lambda: __import__("pickle").dumps(a),
}
for name, attempt in attempts.items():
    try:
        result = attempt()
    except Exception as exc:
        print(f"{name:32}", traceback.format_exception_only(exc)[-1], end="")
    else:
        print(f"{name:32}", "returned", repr(result))

a.close()
# the peer is gone
try:
    b.send(b"x")
except OSError as exc:
    print("send to closed peer", type(exc).__name__, exc)
print("recv from closed peer", b.recv(10))
for s in (b, srv, nb, r_nb, w_nb):
    s.close()
