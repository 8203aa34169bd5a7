"""3b. Memory per idle connection (idle_conns.py against an echo server)."""
from harness.processes import BENCH, CLIENT_CPU, PY, SERVER_CPU, Failed, pinned, raise_nofile
from harness.rows import attempt, engine_note, unpatched_note

IDLE_CONNS = 5_000


def conns_rows(r):
    """3b. Memory per idle connection: an echo server's RSS growth over
    5,000 connections parked in recv (idle_conns.py), ÷ connections."""
    s = r.s
    servers = [
        ("threads", "python3.11 threads", "python3.11", "echo_threads.py", ()),
        ("gevent", "gevent threads (-m gevent.monkey)", "gevent", "echo_threads.py", ()),
        ("tf_threads", "tfpython threads", "tfpython", "echo_threads.py", ("socket", "threading")),
        ("tf_spawn", "tfpython theframework.spawn", "tfpython", "echo_spawn.py", ("socket",)),
        ("tf_threads_epoll", "tfpython threads, epoll engine", "tfpython-epoll", "echo_threads.py",
         ("socket", "threading")),
    ]
    # idle_conns.py needs the connections, its 200 warm-up ones and 100
    # spare fds; under a low open-file limit (a container's 1024) fewer
    # connections are measured, and the notes say so.
    limit = raise_nofile()
    conns = min(IDLE_CONNS, limit - 300)
    rows = []
    for key, label, runtime, script, needs in servers:
        row = {"key": key, "label": label, "runtime": runtime}

        def measure(runtime=runtime, script=script, needs=needs, label=label, row=row):
            r.check_runtime(runtime)
            if conns < 500:
                raise Failed("open-file limit %d: room for %d connections only" % (limit, conns))
            cmd = ([PY, str(BENCH / "idle_conns.py"), "--conns", conns, "--breakdown", "--"]
                   + pinned(SERVER_CPU, r.command(runtime, script)))
            runs = [r.run_json("conns %s run %d" % (label, i), cmd, 120, cpu=CLIENT_CPU)
                    for i in range(s.conns_repeats)]
            result = dict(sorted(runs, key=lambda x: x["kib_per_conn"])[len(runs) // 2])
            notes = [unpatched_note(result, needs), engine_note(row, result)]
            if conns < IDLE_CONNS:
                notes.append("%d connections, not %d: the open-file limit is %d" % (conns, IDLE_CONNS, limit))
            if len(runs) > 1:
                notes.append("median of %d runs: %.2f-%.2f KiB" % (
                    len(runs), min(x["kib_per_conn"] for x in runs), max(x["kib_per_conn"] for x in runs)))
            result["note"] = "; ".join(filter(None, notes))
            return result

        rows.append(attempt(row, measure))
    return rows
