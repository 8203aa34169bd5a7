"""Idle CPU: how much CPU a process burns while blocked.

    idle.py PHASE SECONDS       PHASE: sleep | select | selectors

sleep:     time.sleep(SECONDS)
select:    select.select([s], [], [], SECONDS) on an idle loopback TCP socket
selectors: selectors.DefaultSelector().select(SECONDS) on the same kind of socket

Measures utime+stime of the whole process (every thread: a hub's helper
threads count too) across the blocking call only, so start-up is left out.
Prints one JSON line: phase, seconds, wall_s, cpu_ms, ready (what select
reported: must be nothing).
"""
import select
import selectors
import socket
import sys
import time

import benchutil


def idle_socket():
    server = benchutil.listen(0)
    client = socket.create_connection(server.getsockname())
    conn, _ = server.accept()
    return server, client, conn


def main():
    phase, seconds = sys.argv[1], float(sys.argv[2])
    keep = ()
    if phase in ("select", "selectors"):
        keep = idle_socket()
        sock = keep[2]
    ready = None
    cpu0, t0 = benchutil.cpu_seconds(), time.perf_counter()
    if phase == "sleep":
        time.sleep(seconds)
    elif phase == "select":
        ready = len(select.select([sock], [], [], seconds)[0])
    elif phase == "selectors":
        with selectors.DefaultSelector() as sel:
            sel.register(sock, selectors.EVENT_READ)
            ready = len(sel.select(seconds))
    else:
        sys.exit("unknown phase %r" % phase)
    wall, cpu = time.perf_counter() - t0, benchutil.cpu_seconds() - cpu0
    for s in keep:
        s.close()
    benchutil.report(dict(phase=phase, seconds=seconds, wall_s=wall, cpu_ms=cpu * 1e3,
                          ready=ready, **benchutil.runtime_info()))


if __name__ == "__main__":
    main()
