"""queue: Queue, LifoQueue and PriorityQueue wait through the patched
threading; SimpleQueue (C in python3, blocking the OS thread) becomes a
cooperative one that is reentrant as the C one is (cooperative_queue.py;
the standard library's _PySimpleQueue is not)."""


def patches(queue):
    from theframework import cooperative_queue
    from theframework.monkey import get_patched
    get_patched("threading")
    allocate_lock = get_patched("_thread").allocate_lock
    return {"SimpleQueue": cooperative_queue.make_simple_queue_class(queue, allocate_lock)}
