"""queue.SimpleQueue, cooperative.

python3's SimpleQueue is C and its get() blocks the OS thread; the standard
library's pure-Python stand-in (queue._PySimpleQueue) is not reentrant: its
put() takes a Condition's lock, so a put() from a __del__ or a weakref
callback run by the garbage collector inside another put() waits for ever
on a lock its own thread holds. This one keeps the C version's promise:
put() never waits and may run inside put() or get() of the same thread. A
get() with nothing to take lists a held lock of its own and waits for the
next put() to release it.
"""
from collections import deque
from time import monotonic
import types


def make_simple_queue_class(queue, allocate_lock):
    """A SimpleQueue for `queue` (its Empty) whose get() waits on locks
    made by `allocate_lock` (the cooperative _thread's)."""
    Empty = queue.Empty

    def forget(waiters, waiter):
        """Takes waiter off the list; False if a put() had taken it (and
        released it) already."""
        try:
            waiters.remove(waiter)
            return True
        except ValueError:
            return False

    class SimpleQueue:
        __doc__ = "Simple, unbounded, reentrant FIFO queue."
        __slots__ = ("_items", "_waiters", "__weakref__")

        def __init__(self):
            self._items = deque()
            self._waiters = deque()  # a held lock per get() waiting for an item

        def put(self, item, block=True, timeout=None):
            """Put the item on the queue.

            The optional 'block' and 'timeout' arguments are ignored, as this method
            never blocks.  They are provided for compatibility with the Queue class.
            """
            self._items.append(item)
            # One popleft, not a test and a pop: a finalizer may put() between them.
            try:
                waiter = self._waiters.popleft()
            except IndexError:
                return
            waiter.release()

        def get(self, block=True, timeout=None):
            """Remove and return an item from the queue.

            If optional args 'block' is true and 'timeout' is None (the default),
            block if necessary until an item is available. If 'timeout' is
            a non-negative number, it blocks at most 'timeout' seconds and raises
            the Empty exception if no item was available within that time.
            Otherwise ('block' is false), return an item if one is immediately
            available, else raise the Empty exception ('timeout' is ignored
            in that case).
            """
            deadline = None
            if block and timeout is not None:
                if timeout < 0:
                    raise ValueError("'timeout' must be a non-negative number")
                deadline = monotonic() + timeout
            items, waiters = self._items, self._waiters
            while not items:
                if not block:
                    raise Empty
                waiter = allocate_lock()
                waiter.acquire()
                waiters.append(waiter)
                if items:  # a put() (a finalizer's, say) came before the waiter was listed
                    forget(waiters, waiter)
                    break
                try:
                    if deadline is None:
                        woken = waiter.acquire()
                    else:
                        left = deadline - monotonic()
                        woken = left > 0 and waiter.acquire(True, left)
                except BaseException:
                    # A wake-up this get() took but will not use goes to the next one.
                    if not forget(waiters, waiter) and items and waiters:
                        waiters.popleft().release()
                    raise
                if not woken and forget(waiters, waiter) and not items:
                    raise Empty
            return items.popleft()

        def put_nowait(self, item):
            """Put an item into the queue without blocking.

            This is exactly equivalent to `put(item, block=False)` and is only provided
            for compatibility with the Queue class.
            """
            return self.put(item, block=False)

        def get_nowait(self):
            """Remove and return an item from the queue without blocking.

            Only get an item if one is immediately available. Otherwise
            raise the Empty exception.
            """
            return self.get(block=False)

        def empty(self):
            """Return True if the queue is empty, False otherwise (not reliable!)."""
            return not self._items

        def qsize(self):
            """Return the approximate size of the queue (not reliable!)."""
            return len(self._items)

        __class_getitem__ = classmethod(types.GenericAlias)

    SimpleQueue.__module__ = "queue"
    SimpleQueue.__qualname__ = "SimpleQueue"
    return SimpleQueue
