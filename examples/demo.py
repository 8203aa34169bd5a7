"""tfpython demo: a thread-per-connection server written against the plain
standard library, run unchanged; under tfpython its threads are fibers on
the hub (io_uring, or epoll where the system refuses io_uring).

The same file runs under python3 (with OS threads). Under tfpython it says
so, and 1,000 client threads talk to 1,000 server threads at once.
"""
import socket
import sys
import threading
import time

CLIENTS = 1000
ROUNDS = 20


def serve(server):
    while True:
        try:
            conn, _ = server.accept()
        except OSError:
            return
        threading.Thread(target=echo, args=(conn,), daemon=True).start()


def echo(conn):
    with conn:
        while data := conn.recv(1024):
            conn.sendall(data)


def client(port, results):
    with socket.create_connection(("127.0.0.1", port)) as sock:
        for i in range(ROUNDS):
            message = b"ping %d" % i
            sock.sendall(message)
            if sock.recv(1024) != message:
                return
        results.append(True)


def main():
    try:
        import _framework_core
        if _framework_core.hub_is_running():
            where = "fibers on the %s hub" % _framework_core.backend()
        else:
            where = "OS threads"
    except ImportError:
        where = "OS threads (plain python3)"
    server = socket.create_server(("127.0.0.1", 0), backlog=CLIENTS)
    port = server.getsockname()[1]
    threading.Thread(target=serve, args=(server,), daemon=True).start()

    results = []
    t0 = time.monotonic()
    clients = [threading.Thread(target=client, args=(port, results)) for _ in range(CLIENTS)]
    for t in clients:
        t.start()
    for t in clients:
        t.join()
    wall = time.monotonic() - t0
    server.close()
    print("threads are %s" % where)
    print("%d clients x %d round trips through %d server threads: %d ok in %.2f s"
          % (CLIENTS, ROUNDS, CLIENTS, len(results), wall))
    return 0 if len(results) == CLIENTS else 1


if __name__ == "__main__":
    sys.exit(main())
