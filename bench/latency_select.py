"""Wake-up latency through select: write in one thread, select returns in another.

    latency_select.py MODE N        MODE: threads | spawn

A reader blocks in select.select() on one end of a loopback TCP connection;
a writer sleeps 1-3 ms, stamps time.perf_counter_ns() into 8 bytes and sends
them on the other end. The latency is the reader's clock when select returns
minus the stamp, over N messages. MODE threads runs reader and writer as
threading.Thread (OS threads under python3.11, greenlets under gevent's
patching, fibers under tfpython's); MODE spawn uses theframework.spawn (tfpython only).

Every select has a 1 s timeout: a select that blocks the whole process (not
cooperative) shows up as a timeout and the run fails instead of hanging.
Prints one JSON line with p50/p90/p99/max in microseconds.
"""
import random
import select
import socket
import struct
import sys
import time

import benchutil

TIMEOUT = 1.0


def reader(sock, n, out):
    ns = time.perf_counter_ns
    try:
        for _ in range(n):
            readable, _, _ = select.select([sock], [], [], TIMEOUT)
            now = ns()
            if not readable:
                raise TimeoutError("select did not return within %.0f s of the write" % TIMEOUT)
            data = b""
            while len(data) < 8:
                chunk = sock.recv(8 - len(data))
                if not chunk:
                    raise ConnectionError("writer closed early")
                data += chunk
            out.append((now - struct.unpack("=q", data)[0]) / 1e3)
    except BaseException as exc:
        out.append(exc)


def writer(sock, n):
    rng = random.Random(2)
    ns = time.perf_counter_ns
    for _ in range(n):
        time.sleep(0.001 + 0.002 * rng.random())
        sock.sendall(struct.pack("=q", ns()))


def main():
    mode, n = sys.argv[1], int(sys.argv[2])
    server = benchutil.listen(0)
    a = socket.create_connection(server.getsockname())
    b, _ = server.accept()
    for s in (a, b):
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    results = []
    if mode == "threads":
        import threading
        workers = [threading.Thread(target=reader, args=(b, n, results), daemon=True),
                   threading.Thread(target=writer, args=(a, n), daemon=True)]
        for w in workers:
            w.start()
        workers[0].join()
    elif mode == "spawn":
        import theframework
        r = theframework.spawn(reader, b, n, results)
        theframework.spawn(writer, a, n)
        r.join()
    else:
        sys.exit("unknown mode %r" % mode)
    failures = [x for x in results if isinstance(x, BaseException)]
    if failures:
        sys.exit("%s: %s" % (type(failures[0]).__name__, failures[0]))
    result = benchutil.percentiles(results)
    result.update(mode=mode, mean=sum(results) / len(results), **benchutil.runtime_info())
    benchutil.report(result)


if __name__ == "__main__":
    main()
