"""Sleepers: N theframework.spawn greenlets, each time.sleep(random 0-1 s).

    tfpython sleepers_spawn.py N

time.sleep is cooperative under tfpython. Prints one JSON line: n, spawn_s,
run_s (start of spawning to the last join), peak_rss_kib.
"""
import random
import sys
import time

import theframework

import benchutil


def main():
    n = int(sys.argv[1])
    rng = random.Random(1)
    delays = [rng.random() for _ in range(n)]
    start = time.perf_counter()
    greenlets = [theframework.spawn(time.sleep, d) for d in delays]
    spawned = time.perf_counter()
    theframework.joinall(greenlets)
    done = time.perf_counter()
    benchutil.report(dict(n=n, spawn_s=spawned - start, run_s=done - start,
                          peak_rss_kib=benchutil.peak_rss_kib(), **benchutil.runtime_info()))


if __name__ == "__main__":
    main()
