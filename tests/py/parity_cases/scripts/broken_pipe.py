# Runs sys.executable (the interpreter under test) writing into a pipe whose
# reader goes away, and reports how that child died. The reader waits until
# the child has filled the pipe (and is blocked between two whole writes):
# a reader that closes while the child is part-way through a write makes
# the child keep the rest in its buffer (exit 120), so without the pause
# the outcome would depend on timing.
import os
import subprocess
import sys
import time

writer = "for i in range(1000000):\n    print(i)\n"
for unbuffered in ("1", None):
    env = dict(os.environ)
    env.pop("PYTHONUNBUFFERED")
    if unbuffered:
        env["PYTHONUNBUFFERED"] = unbuffered
    p = subprocess.Popen([sys.executable, "-c", writer], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=env)
    time.sleep(0.3)
    p.stdout.read(100)
    p.stdout.close()
    err = p.stderr.read().decode()
    print("unbuffered" if unbuffered else "buffered", "exit", p.wait())
    print(err.replace(sys.executable, "<PYTHON>"))
