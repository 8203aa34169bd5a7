import atexit
import threading
import time

atexit.register(print, "atexit handler ran")


def worker():
    time.sleep(0.3)
    print("worker finished")


threading.Thread(target=worker).start()
print("main finished")
