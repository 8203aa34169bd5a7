"""tf.Event: set() wakes every waiter; wait() with a timeout."""
import time

import theframework as tf


def test_event_wakes_all_waiters_and_times_out(in_hub):
    ev = tf.Event()
    got = []
    gs = [tf.spawn(lambda: got.append(ev.wait())) for _ in range(3)]
    time.sleep(0.01)
    assert got == []
    ev.set()
    tf.joinall(gs)
    assert got == [True, True, True]
    assert tf.Event().wait(0.01) is False
