"""Sleepers: N asyncio tasks (create_task), each asyncio.sleep(random 0-1 s).

    python3.11 sleepers_asyncio.py N

Prints one JSON line: n, spawn_s, run_s (start of creating tasks to the
last one done), peak_rss_kib.
"""
import asyncio
import random
import sys
import time

import benchutil


async def run(delays):
    start = time.perf_counter()
    tasks = [asyncio.create_task(asyncio.sleep(d)) for d in delays]
    spawned = time.perf_counter()
    await asyncio.gather(*tasks)
    return start, spawned, time.perf_counter()


def main():
    n = int(sys.argv[1])
    rng = random.Random(1)
    delays = [rng.random() for _ in range(n)]
    start, spawned, done = asyncio.run(run(delays))
    benchutil.report(dict(n=n, spawn_s=spawned - start, run_s=done - start,
                          peak_rss_kib=benchutil.peak_rss_kib(), **benchutil.runtime_info()))


if __name__ == "__main__":
    main()
