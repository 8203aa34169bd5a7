"""Timeouts: tf.Timeout around a wait (cancelling what it waited for), with
its own exception, cancelled; and a wait's own timeout argument."""
import os
import time

import pytest

import _framework_core as core
import theframework as tf


def test_timeout_interrupts_a_wait_and_cancels_the_operation(in_hub):
    r, w = os.pipe()
    try:
        t0 = time.monotonic()
        with pytest.raises(tf.Timeout):
            with tf.Timeout(0.05):
                core.wait_readable(r)
        assert time.monotonic() - t0 < 1
        os.write(w, b"x")
        assert core.wait_readable(r, 1.0)  # nothing left in flight swallowed it
        assert core.wait_writable(w, 1.0) is True
    finally:
        os.close(r)
        os.close(w)


def test_timeout_with_custom_exception_and_cancel(in_hub):
    with pytest.raises(KeyError):
        with tf.Timeout(0.01, KeyError("late")):
            time.sleep(1)
    with tf.Timeout(0.01) as t:
        pass
    assert not t.pending
    time.sleep(0.03)  # a cancelled timeout never fires


def test_wait_fd_timeout_returns_false(in_hub):
    r, w = os.pipe()
    try:
        assert core.wait_readable(r, 0.02) is False
    finally:
        os.close(r)
        os.close(w)
