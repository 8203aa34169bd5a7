"""os: read, write, the wait family and system wait cooperatively (pipes
between processes, children of multiprocessing and subprocess, shell
commands)."""


def patches(os):
    from theframework import cooperative_os as co
    waitpid = co.make_waitpid(os.waitpid)
    return {"read": co.make_read(os.read), "write": co.make_write(os.write), "waitpid": waitpid,
            "wait": co.make_wait(os.waitpid), "wait3": co.make_wait3(os.wait3), "wait4": co.make_wait4(os.wait4),
            "system": co.make_system(os.system)}
