"""Section "Engines": the epoll engine beside io_uring."""
from reporting.format import DASH, by_key, num, ratio, table, value


def engines_section(b):
    """The epoll engine beside io_uring, each measured in this run: what
    tfpython costs where io_uring is refused."""
    pairs = [  # benchmark, epoll row, io_uring row, field, what, goal
        ("echo", "tf_threads_epoll", "tf_threads", "cpu_us_per_msg", "echo, threads: CPU µs/msg", 1.15),
        ("echo", "tf_spawn_epoll", "tf_spawn", "cpu_us_per_msg", "echo, theframework.spawn: CPU µs/msg", 1.15),
        ("http", "tfpython_epoll", "tfpython", "cpu_us_per_req", "HTTP: CPU µs/req", None),
        ("tls", "tf_threads_epoll", "tf_threads", "cpu_us_per_msg", "TLS echo, threads: CPU µs/msg", None),
        ("https", "tfpython_epoll", "tfpython", "cpu_us_per_req", "HTTPS: CPU µs/req", None),
        ("sleepers", "tf_threads_epoll", "tf_threads", "run_s", "sleepers, threads: run s", 1.2),
    ]
    gevent = {"echo": "gevent", "http": "gevent", "tls": "gevent", "https": "gevent", "sleepers": "gevent_threads"}
    body = []
    for bench, epoll, uring, field, what, goal in pairs:
        rows = by_key(b.get(bench, []))
        if epoll not in rows:
            continue
        e, u, g = value(rows, epoll, field), value(rows, uring, field), value(rows, gevent[bench], field)
        body.append([what, num(u), num(e), ratio(e, u), "≤ %.2f×" % goal if goal else DASH, ratio(g, e)])
    if not body:
        return []
    return [
        "## Engines: epoll beside io_uring",
        "",
        "tfpython runs on epoll where io_uring is refused (containers' default seccomp profiles, "
        "`kernel.io_uring_disabled`); `TFPYTHON_BACKEND=epoll` forces it. The rows above marked "
        "\"epoll engine\" are the same workloads on it, measured in the same rounds.",
        "",
        *table(["measure", "io_uring", "epoll", "epoll ÷ io_uring", "goal", "gevent ÷ epoll"], body),
        "",
    ]
