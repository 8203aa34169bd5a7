"""The hub's deadlock report (TFPYTHON_REPORT_DEADLOCK): a wait nothing can
end raises in the main greenlet; a pending timer is not a deadlock."""
from conftest import run_tfpython


def test_deadlock_is_reported_in_the_main_greenlet_when_asked():
    r = run_tfpython("""
        import theframework as tf
        tf.Event().wait()
    """, timeout=20, env={"TFPYTHON_REPORT_DEADLOCK": "1"})
    assert r.returncode == 1
    assert "DeadlockError: this operation would block forever" in r.stderr
    assert 'File "<string>", line 3, in <module>' in r.stderr


def test_no_deadlock_report_while_a_timer_is_pending():
    r = run_tfpython("""
        import theframework as tf
        ev = tf.Event()
        tf.spawn(lambda: (tf.sleep(0.05), ev.set()))
        print(ev.wait())
    """)
    assert r.stdout == "True\n", r.stderr
