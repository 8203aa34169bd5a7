"""Sleepers: N gevent.spawn greenlets, each gevent.sleep(random 0-1 s).

    python3.11 sleepers_gevent.py N

Prints one JSON line: n, spawn_s, run_s (start of spawning to the last
join), peak_rss_kib.
"""
import random
import sys
import time

import gevent

import benchutil


def main():
    n = int(sys.argv[1])
    rng = random.Random(1)
    delays = [rng.random() for _ in range(n)]
    start = time.perf_counter()
    greenlets = [gevent.spawn(gevent.sleep, d) for d in delays]
    spawned = time.perf_counter()
    gevent.joinall(greenlets)
    done = time.perf_counter()
    benchutil.report(dict(n=n, spawn_s=spawned - start, run_s=done - start,
                          peak_rss_kib=benchutil.peak_rss_kib(), **benchutil.runtime_info()))


if __name__ == "__main__":
    main()
