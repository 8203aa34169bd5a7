"""tf.run_in_thread: a blocking call on a pool thread while the hub runs
on; its exception comes back to the caller."""
import time

import pytest

import theframework as tf
from theframework.monkey import get_original


def test_run_in_thread_does_not_block_the_hub(in_hub):
    ticks = []

    def ticker():
        for _ in range(5):
            ticks.append(time.monotonic())
            time.sleep(0.01)
    blocking_sleep = get_original("time", "sleep")
    g = tf.spawn(ticker)
    t0 = time.monotonic()
    assert tf.run_in_thread(lambda: (blocking_sleep(0.1), "slept")[1]) == "slept"
    assert time.monotonic() - t0 >= 0.09
    g.join()
    assert len(ticks) == 5 and ticks[-1] - ticks[0] < 0.09


def test_run_in_thread_reraises(in_hub):
    with pytest.raises(ZeroDivisionError):
        tf.run_in_thread(lambda: 1 / 0)
