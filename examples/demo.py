"""tfpython demo: a thread-per-connection server written against the plain
standard library, run unchanged; under tfpython its threads are fibers on
the hub (io_uring, or epoll where the system refuses io_uring).

The same file runs under python3 (with OS threads). Under tfpython it says
so, and 1,000 client threads talk to 1,000 server threads at once (fewer
where the open-file limit cannot hold 2,000 sockets; it says so).
"""
import os
import resource
import socket
import sys
import threading
import time

ROUNDS = 20


def how_many_clients(wanted=1000):
    """As many as the open-file limit allows, up to `wanted`: each client
    holds two fds (its socket and the server's end). A container's default
    hard limit is 1024."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = 2 * wanted + 64
    if soft != resource.RLIM_INFINITY and soft < need:
        soft = need if hard == resource.RLIM_INFINITY else min(hard, need)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    if soft == resource.RLIM_INFINITY:
        return wanted
    fits = (soft - len(os.listdir("/proc/self/fd")) - 64) // 2
    if fits < wanted:
        print("the open-file limit is %d: %d clients, not %d" % (hard, fits, wanted))
    return min(wanted, fits)


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
    clients_wanted = how_many_clients()
    server = socket.create_server(("127.0.0.1", 0), backlog=clients_wanted)
    port = server.getsockname()[1]
    threading.Thread(target=serve, args=(server,), daemon=True).start()

    results = []
    t0 = time.monotonic()
    clients = [threading.Thread(target=client, args=(port, results)) for _ in range(clients_wanted)]
    for t in clients:
        t.start()
    for t in clients:
        t.join()
    wall = time.monotonic() - t0
    server.close()
    print("threads are %s" % where)
    print("%d clients x %d round trips through %d server threads: %d ok in %.2f s"
          % (clients_wanted, ROUNDS, clients_wanted, len(results), wall))
    return 0 if len(results) == clients_wanted else 1


if __name__ == "__main__":
    sys.exit(main())
