"""threading when threads stay OS threads (TFPYTHON_PATCH_THREADS=0): Lock,
RLock and so Condition, Event, Semaphore, Barrier and queue.Queue are the
cooperative locks (a greenlet waiting for one parks on the hub; an OS
thread blocks on a lock of its own), and Thread.join() of an OS thread
waits on the hub (real_thread_join.py). _thread itself, thread idents and
the threads are python3's."""


def patches(threading):
    from theframework import cooperative_thread as ct
    from theframework.real_thread_join import CooperativeTstateLock, make_set_tstate_lock
    main = threading._main_thread
    if main._tstate_lock is not None and not isinstance(main._tstate_lock, CooperativeTstateLock):
        main._tstate_lock = CooperativeTstateLock(main._tstate_lock)
    from theframework import monkey
    monkey.set_method(threading, "Thread._set_tstate_lock", make_set_tstate_lock(threading))
    return {
        "_allocate_lock": ct.allocate_lock,
        "Lock": ct.allocate_lock,
        "_CRLock": ct.RLock,
    }
