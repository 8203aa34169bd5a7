# Signals while a socket call blocks: a handler that returns lets recv go
# on (PEP 475); one that raises ends it.
import signal
import socket
import threading
import time

a, b = socket.socketpair()
signal.signal(signal.SIGALRM, lambda *args: print("handler ran"))
signal.setitimer(signal.ITIMER_REAL, 0.1)
threading.Timer(0.3, b.send, (b"late data",)).start()
print("recv after handler", a.recv(100))


def raising(*args):
    raise RuntimeError("from the handler")


signal.signal(signal.SIGALRM, raising)
signal.setitimer(signal.ITIMER_REAL, 0.1)
try:
    a.recv(100)
except RuntimeError as exc:
    print("recv ended by", exc)

srv = socket.create_server(("127.0.0.1", 0))
signal.setitimer(signal.ITIMER_REAL, 0.1)
try:
    srv.accept()
except RuntimeError as exc:
    print("accept ended by", exc)

main = threading.main_thread().ident
threading.Timer(0.1, signal.pthread_kill, (main, signal.SIGINT)).start()
t = time.monotonic()
try:
    a.recv(100)
except KeyboardInterrupt:
    print("KeyboardInterrupt in recv", time.monotonic() - t < 2)
threading.Timer(0.1, signal.pthread_kill, (main, signal.SIGINT)).start()
a.recv(100)
