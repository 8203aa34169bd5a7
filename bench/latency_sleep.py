"""Wake-up latency of a timeout: how late does sleep(0.05) return?

    latency_sleep.py N [INTERVAL [sleep|select]]     (default 0.05 s, sleep)

Sleeps N times (or waits N times in select.select on a pipe that never
becomes readable, timeout INTERVAL) and records each overshoot (elapsed -
INTERVAL) in microseconds. Prints one JSON line with p50/p90/p99/max and
the mean.
"""
import os
import select
import sys
import time

import benchutil


def main():
    n = int(sys.argv[1])
    interval = float(sys.argv[2]) if len(sys.argv) > 2 else 0.05
    clock, sleep = time.perf_counter, time.sleep
    if len(sys.argv) > 3 and sys.argv[3] == "select":
        idle, _ = os.pipe()

        def sleep(seconds):
            if select.select([idle], [], [], seconds)[0]:
                sys.exit("select on an idle pipe reported it readable")
    overshoot = []
    for _ in range(n):
        t0 = clock()
        sleep(interval)
        overshoot.append((clock() - t0 - interval) * 1e6)
    result = benchutil.percentiles(overshoot)
    result.update(interval=interval, mean=sum(overshoot) / n, **benchutil.runtime_info())
    benchutil.report(result)


if __name__ == "__main__":
    main()
