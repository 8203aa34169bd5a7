"""Echo server: one theframework greenlet per connection (tfpython only).

    tfpython echo_spawn.py [PORT]

Like echo_threads.py, but each connection is served by
``theframework.spawn(handle, conn)``: no threading module involved. Needs
tfpython's cooperative socket (accept/recv/sendall must yield to the hub).
Runs until killed.
"""
import socket
import sys

import theframework

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
        theframework.spawn(handle, conn)


if __name__ == "__main__":
    main()
