"""queue: Queue, LifoQueue and PriorityQueue wait through the patched
threading; SimpleQueue (C in python3, blocking the OS thread) becomes the
standard library's own pure-Python version."""


def patches(queue):
    from theframework.monkey import get_patched
    get_patched("threading")
    return {"SimpleQueue": queue._PySimpleQueue}
