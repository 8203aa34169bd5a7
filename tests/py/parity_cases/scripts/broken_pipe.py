# Runs sys.executable (the interpreter under test) writing into a pipe whose
# reader goes away, and reports how that child died.
import os
import subprocess
import sys

writer = "for i in range(1000000):\n    print(i)\n"
for unbuffered in ("1", None):
    env = dict(os.environ)
    env.pop("PYTHONUNBUFFERED")
    if unbuffered:
        env["PYTHONUNBUFFERED"] = unbuffered
    p = subprocess.Popen([sys.executable, "-c", writer], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=env)
    p.stdout.read(100)
    p.stdout.close()
    err = p.stderr.read().decode()
    print("unbuffered" if unbuffered else "buffered", "exit", p.wait())
    print(err.replace(sys.executable, "<PYTHON>"))
