import sys
import threading


def worker():
    print("in thread", threading.current_thread().name)
    sys.exit(3)  # only ends the thread; threading ignores SystemExit


t = threading.Thread(target=worker, name="worker")
t.start()
t.join()
print("main continues; thread alive:", t.is_alive())
