"""multiprocessing under tfpython: process-shared locks taken with `with`
wait on the hub's thread pool, so threads of the parent keep running."""
import multiprocessing
import threading

import pytest

from conftest import run_tfpython


def test_with_on_a_process_shared_lock_lets_its_holder_run(in_hub):
    lock = multiprocessing.Lock()
    order = []

    def holder():
        with lock:
            order.append("held")
            threading.Event().wait(0.05)  # parks while holding it
            order.append("released")
    t = threading.Thread(target=holder)
    t.start()
    assert order == ["held"]
    with lock:  # python3's __enter__ is a blocking C acquire: the holder could never release
        order.append("main")
    t.join()
    assert order == ["held", "released", "main"]


@pytest.mark.timeout(60)
def test_pool_terminate_after_a_map_async_callback():
    r = run_tfpython("""
        import multiprocessing, threading
        def square(n):
            return n * n
        if __name__ == "__main__":
            with multiprocessing.Pool(2) as pool:
                done, got = threading.Event(), []
                pool.map_async(square, range(5), callback=lambda r: (got.extend(r), done.set()))
                print(done.wait(30), got)
            print("exited")
    """, timeout=50)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "True [0, 1, 4, 9, 16]\nexited\n"
