"""Frame-stack chunks: every greenlet and parked thread running Python code
holds one (a small root chunk, or a pooled 16 KiB one); the root size
grows to fit, and every chunk comes back."""
import time

import _framework_core as core
import theframework as tf
from conftest import run_tfpython


def test_frame_stack_chunks_are_pooled_and_returned(in_hub):
    # Every greenlet running Python code needs a frame-stack chunk: a small
    # root chunk of ours (or, once roots are off, CPython's 16 KiB, from our
    # pool); none is mapped per greenlet and all go back.
    def body(i):
        time.sleep(0)
        return i * 2

    in_use, _, _, roots, _ = core.stack_chunk_counts()
    greenlets = [tf.spawn(body, i) for i in range(2000)]
    time.sleep(0)  # all started: each holds a chunk
    now = core.stack_chunk_counts()
    assert (now[0] - in_use) + (now[3] - roots) >= 2000
    tf.joinall(greenlets)
    assert [g.value for g in greenlets[:3]] == [0, 2, 4]
    after = core.stack_chunk_counts()
    assert after[0] <= in_use + 1 and after[3] <= roots + 1
    # At most 256 16 KiB chunks keep their pages; the rest went back.
    assert after[1] <= 256


def test_root_chunk_grows_when_greenlets_outgrow_it():
    # A fresh process: greenlets parked two frames deep fit the first,
    # 448-byte root; ones a dozen frames deep (~1.5 KiB) outgrow the roots
    # up to 1 KiB, and the next ones get 1.5 KiB, which holds them; ones
    # parked 60 frames deep outgrow every root size, and roots go off.
    # The answers stay right and every chunk comes back.
    r = run_tfpython("""
        import time
        import theframework as tf
        from theframework._core import core

        def deep(n):
            if n:
                return deep(n - 1) + 1
            time.sleep(0.001)
            return 0

        sizes = [core.stack_chunk_counts()[4]]
        for depth in (1, 12, 12, 60):
            greenlets = [tf.spawn(deep, depth) for _ in range(100)]
            tf.joinall(greenlets)
            assert all(g.value == depth for g in greenlets)
            sizes.append(core.stack_chunk_counts()[4])
        in_use, _, _, roots, _ = core.stack_chunk_counts()
        print(sizes, in_use, roots)
    """)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["[448,", "448,", "1536,", "1536,", "0]", "1", "0"]


def test_a_parked_thread_holds_a_small_root_chunk():
    # A fresh process: threads whose target is a small Python function
    # outgrow the first root (448 bytes: threading's bootstrap and a C call)
    # and settle at 512; then 50 such threads parked in sleep() hold 50
    # roots and no 16 KiB chunk, and all come back.
    r = run_tfpython("""
        import threading, time
        import _framework_core as core
        inside = []
        def body():
            inside.append(core.hub_is_running())
            time.sleep(0.05)
        def batch():
            ts = [threading.Thread(target=body) for _ in range(50)]
            for t in ts:
                t.start()
            return ts
        for t in batch():  # the root size settles
            t.join()
        before = core.stack_chunk_counts()
        ts = batch()
        during = core.stack_chunk_counts()
        for t in ts:
            t.join()
        after = core.stack_chunk_counts()
        assert inside == [True] * 100
        print(during[3] - before[3], during[0] - before[0], after[3] - before[3], after[0] - before[0], during[4])
    """)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["50", "0", "0", "0", "512"]
