import threading


def worker():
    raise ValueError("raised in a thread")


t = threading.Thread(target=worker, name="worker")
t.start()
t.join()
print("main continues after the thread's exception")
