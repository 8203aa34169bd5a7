"""Echo server: one threading.Thread per connection (plain stdlib).

    echo_threads.py [PORT]

Listens on 127.0.0.1:PORT (0 or absent: any free port), prints one JSON line
announcing the port, then for each connection starts a thread that loops
recv(64) / sendall until the peer closes. Under python3.11 these are OS
threads; under ``python3.11 -m gevent.monkey`` the same file runs them as
greenlets, under tfpython as fibers. Runs until killed.
"""
import socket
import sys
import threading

import benchutil


def handle(conn):
    with conn:
        recv, sendall = conn.recv, conn.sendall
        while True:
            data = recv(64)
            if not data:
                return
            sendall(data)


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    benchutil.stats_on_signal()
    server = benchutil.listen(port)
    benchutil.announce(server.getsockname()[1])
    while True:
        conn, _ = server.accept()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=handle, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    main()
