# threading's synchronisation primitives, with real waiting.
import concurrent.futures
import queue
import threading
import time

q = queue.Queue()
results = []


def producer():
    for i in range(5):
        time.sleep(0.01)
        q.put(i)
    q.put(None)


def consumer():
    while (item := q.get()) is not None:
        results.append(item * item)


threads = [threading.Thread(target=producer), threading.Thread(target=consumer)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("queue", results)

lock = threading.Lock()
counter = [0]


def bump():
    for _ in range(1000):
        with lock:
            counter[0] += 1


ts = [threading.Thread(target=bump) for _ in range(4)]
for t in ts:
    t.start()
for t in ts:
    t.join()
print("lock", counter[0])

event = threading.Event()
threading.Timer(0.05, event.set).start()
print("event wait", event.wait(5), event.is_set())
print("event timeout", threading.Event().wait(0.05))

cond = threading.Condition()
ready = []


def waiter():
    with cond:
        cond.wait_for(lambda: ready, timeout=5)
        print("condition saw", ready)


t = threading.Thread(target=waiter)
t.start()
time.sleep(0.05)
with cond:
    ready.append("go")
    cond.notify_all()
t.join()

barrier = threading.Barrier(3)
order = []


def at_barrier(n):
    time.sleep(0.01 * n)
    order.append(("before", n))
    barrier.wait()
    order.append(("after", n))


ts = [threading.Thread(target=at_barrier, args=(n,)) for n in range(3)]
for t in ts:
    t.start()
for t in ts:
    t.join()
print("barrier", [o for o in order if o[0] == "before"], len(order))

sem = threading.BoundedSemaphore(2)
print("semaphore", sem.acquire(), sem.acquire(), sem.acquire(timeout=0.05))
sem.release()
try:
    sem.release()
    sem.release()
except ValueError as exc:
    print("semaphore", exc)

rlock = threading.RLock()
with rlock:
    with rlock:
        print("rlock re-entered")
try:
    threading.Lock().release()
except RuntimeError as exc:
    print("release unlocked:", exc)
print("lock timeout", threading.Lock().acquire(timeout=0.01), lock.acquire(timeout=-1) and not lock.release())
try:
    threading.Lock().acquire(False, 1)
except ValueError as exc:
    print("ValueError", exc)

local = threading.local()
local.x = "main"


def show_local():
    local.x = "thread"


t = threading.Thread(target=show_local)
t.start()
t.join()
print("local", local.x)

with concurrent.futures.ThreadPoolExecutor(4) as pool:
    print("executor", list(pool.map(lambda n: (time.sleep(0.01 * (5 - n)), n * 10)[1], range(5))))
    fut = pool.submit(lambda: 1 / 0)
    print("future exception", repr(fut.exception()))

t = threading.Thread(target=time.sleep, args=(0.5,))
t.start()
t.join(0.05)
print("join timeout: alive", t.is_alive())
t.join()
print("active", threading.active_count(), [x.name for x in threading.enumerate()])
