# Runs sys.executable (the interpreter under test) writing into a pipe whose
# reader goes away, and reports how that child died. The reader waits until
# the pipe stops filling (the child is blocked between two whole writes),
# then reads too little to wake it and closes: a reader that closes while
# the child is part-way through a write makes the child keep the rest in
# its buffer (exit 120 instead of 1), so without the wait the outcome would
# depend on timing (a fixed pause was not enough on a loaded machine).
import array
import fcntl
import os
import subprocess
import sys
import termios
import time

writer = "for i in range(1000000):\n    print(i)\n"
for unbuffered in ("1", None):
    env = dict(os.environ)
    env.pop("PYTHONUNBUFFERED")
    if unbuffered:
        env["PYTHONUNBUFFERED"] = unbuffered
    p = subprocess.Popen([sys.executable, "-c", writer], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=env)
    # Until the pipe stops filling (the child then waits in a write), then a
    # read too small to free a page of it: the child stays where it waits.
    fd = p.stdout.fileno()
    held, last = array.array("i", [0]), -1
    while held[0] != last or held[0] == 0:
        last = held[0]
        time.sleep(0.1)
        fcntl.ioctl(fd, termios.FIONREAD, held)
    os.read(fd, 100)
    p.stdout.close()
    err = p.stderr.read().decode()
    print("unbuffered" if unbuffered else "buffered", "exit", p.wait())
    print(err.replace(sys.executable, "<PYTHON>"))
