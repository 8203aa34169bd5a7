"""Sleepers: N threading.Thread objects, each sleeping a random 0-1 s.

    sleepers_threads.py N [--max-os-threads M]

Under python3.11 -m gevent.monkey the threads are greenlets, under tfpython
(threading patched) fibers. Where threading.Thread starts real OS threads (plain
python3.11, or tfpython before its threading patch) a probe thread shows it,
and more than M of them (default 10000) is refused: N OS threads at N=100,000
would exceed the machine's pid_max/max_map_count limits, not measure Python.
Prints one JSON line: n, os_threads, spawn_s (to start all), run_s (start
of spawning to the last join), peak_rss_kib.
"""
import os
import random
import sys
import threading
import time

import benchutil


def starts_os_threads():
    """True when a started threading.Thread runs on a kernel thread of its
    own (/proc/thread-self names the kernel thread, whatever is patched)."""
    here = os.readlink("/proc/thread-self")
    seen = []
    probe = threading.Thread(target=lambda: seen.append(os.readlink("/proc/thread-self")))
    probe.start()
    probe.join()
    return seen[0] != here


def main():
    n = int(sys.argv[1])
    max_os = 10000
    if "--max-os-threads" in sys.argv:
        max_os = int(sys.argv[sys.argv.index("--max-os-threads") + 1])
    os_threads = starts_os_threads()
    if os_threads and n > max_os:
        sys.exit("threading.Thread starts OS threads here (threading not patched); "
                 "refusing to start %d of them (cap %d)" % (n, max_os))
    rng = random.Random(1)
    delays = [rng.random() for _ in range(n)]
    start = time.perf_counter()
    threads = [threading.Thread(target=time.sleep, args=(d,)) for d in delays]
    for t in threads:
        t.start()
    spawned = time.perf_counter()
    for t in threads:
        t.join()
    done = time.perf_counter()
    benchutil.report(dict(n=n, os_threads=os_threads, spawn_s=spawned - start,
                          run_s=done - start, peak_rss_kib=benchutil.peak_rss_kib(),
                          **benchutil.runtime_info()))


if __name__ == "__main__":
    main()
