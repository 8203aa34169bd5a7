"""os: read, write and waitpid wait cooperatively (pipes between processes,
children of multiprocessing and subprocess)."""


def patches(os):
    from theframework import cooperative_os as co
    return {"read": co.make_read(os.read), "write": co.make_write(os.write),
            "waitpid": co.make_waitpid(os.waitpid)}
