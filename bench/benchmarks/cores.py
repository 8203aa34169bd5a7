"""7. Every core: examples/every_core/server.py with 1 and 2 workers
under wrk."""
from benchmarks.http import HTTP_CONNS, parse_wrk
from harness.processes import CLIENT_CPU, HOST, ROOT, SERVER_CPU, Failed, Server, machine_busy
from harness.rows import median_of, round_robin

EVERY_CORE = ROOT / "examples" / "every_core" / "server.py"


def cores_rows(r):
    """Every core: examples/every_core/server.py (SO_REUSEPORT workers, each a
    ThreadingHTTPServer) with 1 and 2 workers under wrk -t1 -c50."""
    s = r.s
    peers = [("python3.11", "python3.11", "reuseport"), ("tfpython", "tfpython", "reuseport"),
             # gevent's workers must be forked to stay patched
             ("gevent", "gevent (-m gevent.monkey), --mode fork", "fork")]
    if s.quick:  # CI: that tfpython's workers still serve, in a few seconds
        peers = peers[1:2]
    rows = [dict(key="%s/%d" % (runtime, workers), label="%s, %d worker%s" % (label, workers, "s" * (workers > 1)),
                 runtime=runtime, workers=workers, mode=mode)
            for runtime, label, mode in peers for workers in (1, 2)]
    wrk = ["wrk", "-t1", "-c%d" % HTTP_CONNS, "--timeout", "2s", "--latency"]

    def cpus(row):
        # 1 worker: server on CPU 0, wrk on CPU 1 (as benchmark 2). 2 workers:
        # the workers need both CPUs, so wrk shares them.
        return "%d" % SERVER_CPU if row["workers"] == 1 else "%d,%d" % (SERVER_CPU, CLIENT_CPU)

    def start(row):
        r.check_runtime(row["runtime"])
        cmd = r.runtimes[row["runtime"]] + [str(EVERY_CORE), "--workers", row["workers"], "--port", 0,
                                            "--mode", row["mode"]]
        return Server(r, "cores " + row["label"], [str(c) for c in cmd], cpus=cpus(row), tree=True), ""

    def window(row, server, i):
        url = "http://%s:%d/" % (HOST, server.port)
        wrk_cpu = CLIENT_CPU if row["workers"] == 1 else cpus(row)
        r.run("cores %s warm-up %d" % (row["label"], i), wrk + ["-d1s", url], 20, cpu=wrk_cpu)
        before, busy0 = server.tree_cpu(), machine_busy()
        out, _ = r.run("cores %s run %d" % (row["label"], i), wrk + ["-d%ds" % s.http_seconds, url],
                       s.http_seconds + 20, cpu=wrk_cpu)
        after, busy1 = server.tree_cpu(), machine_busy()
        server.check_alive()
        result = parse_wrk(out)
        if result["requests"] == 0:
            raise Failed("no request answered")
        per_pid = {pid: after[pid] - before.get(pid, 0.0) for pid in after}
        cpu = sum(per_pid.values())
        workers = sorted((v for pid, v in per_pid.items() if pid != server.proc.pid), reverse=True)
        if len(workers) != row["workers"]:
            raise Failed("%d worker processes, expected %d" % (len(workers), row["workers"]))
        result.update(server_cpu_s=cpu, cpu_us_per_req=cpu / result["requests"] * 1e6,
                      worker_cpu_s=workers,
                      machine_busy=(busy1[0] - busy0[0]) / max(1, busy1[1] - busy0[1]))
        return result

    def summarize(row, runs):
        errors = sum(x["socket_errors"] + x["non_2xx"] for x in runs)
        notes = [row.get("note")]
        if errors:
            notes.append("%d socket errors / non-2xx answers" % errors)
        mid = sorted(runs, key=lambda x: x["req_per_s"])[len(runs) // 2]
        return {"req_per_s": mid["req_per_s"], "cpu_us_per_req": median_of(runs, "cpu_us_per_req"),
                "req_per_s_range": [min(x["req_per_s"] for x in runs), max(x["req_per_s"] for x in runs)],
                "cpu_us_per_req_range": [min(x["cpu_us_per_req"] for x in runs),
                                         max(x["cpu_us_per_req"] for x in runs)],
                "worker_cpu_s": mid["worker_cpu_s"], "machine_busy": median_of(runs, "machine_busy"),
                "p50_us": median_of(runs, "p50_us") if all("p50_us" in x for x in runs) else None,
                "p99_us": median_of(runs, "p99_us") if all("p99_us" in x for x in runs) else None,
                "note": "; ".join(filter(None, notes))}

    round_robin(r, rows, start, window, summarize, s.http_repeats)
    for row in rows:
        row.pop("mode", None)
    return rows
