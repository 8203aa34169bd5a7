import os
import time

print("before fork")
pid = os.fork()
if pid == 0:
    time.sleep(0.05)  # the child's hub must work after the fork
    print("child done")
    os._exit(5)
_, status = os.waitpid(pid, 0)
print("parent saw child exit", os.waitstatus_to_exitcode(status))
