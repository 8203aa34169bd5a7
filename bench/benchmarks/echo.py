"""1. Echo ping-pong and 1c. the echo sweep (the same against connection
counts): the echo servers, and one load generator window against one."""
import subprocess
import time

from harness.processes import CLIENT_CPU, HOST, Failed, LineReader, Server, kill_group, pinned, raise_nofile, tail
from harness.rows import engine_note, median_of, round_robin, unpatched_note

ECHO_CONNS, ECHO_MSGSIZE = 50, 64


def start_echo_server(r, row, what):
    """The echo server of a row: the C one (script None) or a Python one
    under the row's runtime; the load generator is built first."""
    r.binary("loadgen")
    if row["script"] is None:
        cmd = [r.binary("echo_uring")]
    else:
        r.check_runtime(row["runtime"])
        cmd = r.command(row["runtime"], *row["script"])
    return Server(r, "%s %s" % (what, row["label"]), cmd)


def echo_rows(r):
    """1. Echo ping-pong: 50 connections x 64-byte messages, one in flight each."""
    s = r.s
    rows = [
        dict(key="c", label="C io_uring (echo_uring.c)", runtime="C", script=None, needs=()),
        dict(key="threads", label="python3.11 threads", runtime="python3.11",
             script=("echo_threads.py",), needs=()),
        dict(key="gevent", label="gevent threads (-m gevent.monkey)", runtime="gevent",
             script=("echo_threads.py",), needs=()),
        dict(key="tf_threads", label="tfpython threads", runtime="tfpython",
             script=("echo_threads.py",), needs=("socket", "threading")),
        dict(key="tf_spawn", label="tfpython theframework.spawn", runtime="tfpython",
             script=("echo_spawn.py",), needs=("socket",)),
        dict(key="tf_threads_epoll", label="tfpython threads, epoll engine", runtime="tfpython-epoll",
             script=("echo_threads.py",), needs=("socket", "threading")),
        dict(key="tf_spawn_epoll", label="tfpython theframework.spawn, epoll engine", runtime="tfpython-epoll",
             script=("echo_spawn.py",), needs=("socket",)),
        dict(key="asyncio", label="asyncio streams", runtime="python3.11",
             script=("echo_asyncio.py",), needs=()),
        dict(key="uvloop", label="asyncio streams + uvloop", runtime="python3.11",
             script=("echo_asyncio.py", "--uvloop"), needs=()),
    ]

    def start(row):
        return start_echo_server(r, row, "echo"), ""

    def window(row, server, i):
        if i == 0:
            row["note"] = "; ".join(filter(None, [unpatched_note(server.info, row["needs"]),
                                                  engine_note(row, server.info)]))
        return echo_window(r, server, r.binary("loadgen"), "echo %s run %d" % (row["label"], i))

    def summarize(row, runs):
        return {"msgs_per_s": median_of(runs, "msgs_per_s"),
                "cpu_us_per_msg": median_of(runs, "cpu_us_per_msg")}

    round_robin(r, rows, start, window, summarize, s.echo_repeats)
    for row in rows:
        del row["script"], row["needs"]
    return rows


def echo_window(r, server, loadgen, label, tls=False, conns=ECHO_CONNS, seconds=None):
    """One load generator run; the server's CPU is read on its "measuring"
    and "done" lines, so only the measurement window counts."""
    s = r.s
    cmd = pinned(CLIENT_CPU, [loadgen] + ["--tls"] * tls
                 + [HOST, server.port, conns, ECHO_MSGSIZE, seconds or s.echo_seconds])
    log = r.log_path(label)
    with open(log, "w") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, bufsize=0,
                                start_new_session=True, env=r.env)
        try:
            reader = LineReader(proc.stdout.fileno())
            deadline = time.monotonic() + (seconds or s.echo_seconds) + 15 + conns / 500
            cpu0 = cpu1 = None
            done = None
            while True:
                line = reader.readline(deadline)
                if line is None:
                    break
                if line == "measuring":
                    cpu0 = server.cpu_seconds()
                elif line.startswith("done "):
                    cpu1 = server.cpu_seconds()
                    done = dict(kv.split("=") for kv in line.split()[1:])
            proc.wait(timeout=max(1.0, deadline - time.monotonic()))
        finally:
            kill_group(proc)
            proc.stdout.close()
    server.check_alive()
    messages = int(done["messages"]) if done else 0
    if proc.returncode != 0 or not messages or cpu0 is None:
        reason = tail(log.read_text(errors="replace")) or "load generator exit status %s" % proc.returncode
        raise Failed(reason.removeprefix("loadgen: "))
    cpu = cpu1 - cpu0
    return {"messages": messages, "seconds": float(done["seconds"]),
            "msgs_per_s": float(done["rate"]), "server_cpu_s": cpu,
            "cpu_us_per_msg": cpu / messages * 1e6, "errors": int(done["errors"])}


#: The echo sweep's peers: key, label, runtime, server (None: echo_uring), most connections.
ECHO_SCALE_PEERS = [
    ("c", "C io_uring", "C", None, None),
    ("tf_threads", "tfpython threads", "tfpython", ("echo_threads.py",), None),
    ("tf_spawn", "tfpython theframework.spawn", "tfpython", ("echo_spawn.py",), None),
    ("gevent", "gevent threads", "gevent", ("echo_threads.py",), None),
    ("threads", "python3.11 threads (OS threads, ≤ 1,000)", "python3.11", ("echo_threads.py",), 1000),
    ("uvloop", "asyncio streams + uvloop", "python3.11", ("echo_asyncio.py", "--uvloop"), None),
]


def echo_scale_rows(r):
    """Benchmark 1 swept over connection counts (50 to 10,000): the server's
    CPU per message as connections grow. Each count starts fresh servers,
    measured round-robin; a count above what the open-file limit allows is
    left out (the report says so)."""
    s = r.s
    counts = (1000,) if s.quick else (50, 1000, 5000, 10000)
    quick_peers = ("c", "tf_threads", "tf_spawn", "gevent")  # CI: a few seconds
    seconds, repeats = (1.0, 1) if s.quick else (3.0, 2)
    limit = raise_nofile()
    rows = []
    for n in counts:
        level = []
        for key, label, runtime, script, most in ECHO_SCALE_PEERS:
            if (most is not None and n > most) or (s.quick and key not in quick_peers):
                continue
            if n + 64 > limit:
                print("  echo sweep: %d connections left out: open-file limit %d" % (n, limit), flush=True)
                break
            level.append(dict(key="%s/%d" % (key, n), peer=key, label="%s, %s conns" % (label, "{:,}".format(n)),
                              runtime=runtime, conns=n, script=script))
        if not level:
            continue

        def start(row):
            return start_echo_server(r, row, "echoscale"), ""

        def window(row, server, i):
            return echo_window(r, server, r.binary("loadgen"), "echoscale %s run %d" % (row["label"], i),
                               conns=row["conns"], seconds=seconds)

        def summarize(row, runs):
            return {"msgs_per_s": median_of(runs, "msgs_per_s"),
                    "cpu_us_per_msg": median_of(runs, "cpu_us_per_msg"),
                    "cpu_us_per_msg_range": [min(x["cpu_us_per_msg"] for x in runs),
                                             max(x["cpu_us_per_msg"] for x in runs)]}

        round_robin(r, level, start, window, summarize, repeats)
        for row in level:
            del row["script"]
            row.update(nofile=limit, window_s=seconds, windows=repeats)
        rows += level
    return rows
