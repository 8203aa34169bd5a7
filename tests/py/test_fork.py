"""os.fork under the hub: the child gets a fresh hub (and goes on in the
thread that forked), the parent is unaffected."""
from conftest import run_tfpython


def test_fork_child_gets_a_fresh_hub_and_parent_is_unaffected():
    r = run_tfpython("""
        import os, time, theframework as tf
        g = tf.spawn(time.sleep, 0.2)     # a waiter the child must forget
        pid = os.fork()
        if pid == 0:
            t0 = time.monotonic()
            time.sleep(0.01)              # works on the child's own ring
            ev = tf.Event()
            tf.spawn(ev.set)
            ev.wait(1)
            os._exit(0 if time.monotonic() - t0 < 1 else 3)
        _, status = os.waitpid(pid, 0)
        g.join()
        print("child", os.waitstatus_to_exitcode(status), "parent", g.dead)
    """)
    assert r.stdout == "child 0 parent True\n", r.stderr


def test_fork_from_a_thread_continues_in_the_child():
    r = run_tfpython("""
        import os, threading, time
        import _framework_core as core
        def body():
            assert type(core.current_task()) is core.ThreadFiber
            time.sleep(0.01)
            pid = os.fork()
            if pid == 0:
                time.sleep(0.01)  # the child's hub resumes the forking thread
                print("child", threading.current_thread() is threading.main_thread(), flush=True)
                os._exit(7)
            print("parent", os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]), flush=True)
        t = threading.Thread(target=body)
        t.start()
        t.join()
    """)
    assert r.returncode == 0, r.stderr
    assert sorted(r.stdout.split("\n")) == ["", "child True", "parent 7"]
