"""tfpython demo: ordinary blocking code, run concurrently by the hub.

Ten thousand greenlets each call the plain `time.sleep`; under tfpython the
call is cooperative, so they all sleep at the same time and the whole run
takes about as long as the longest sleep, not the sum of them.
"""
import random
import sys
import time

import _framework_core
import theframework

N = 10_000


def worker(i, results):
    delay = random.random()
    time.sleep(delay)  # the standard library call, patched
    results.append(delay)


def main():
    print("running inside the hub:", _framework_core.hub_is_running())
    results = []
    t0 = time.monotonic()
    greenlets = [theframework.spawn(worker, i, results) for i in range(N)]
    theframework.joinall(greenlets)
    wall = time.monotonic() - t0
    print("%d sleepers, %.1f s of sleeping in total, finished in %.2f s of wall time"
          % (len(results), sum(results), wall))
    return 0 if len(results) == N and wall < 5 else 1


if __name__ == "__main__":
    sys.exit(main())
