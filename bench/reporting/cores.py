"""Section 7. Every core."""
from reporting.format import DASH, by_key, failed, num, ratio, spread, table, value


def cores_section(rows, s):
    ks = by_key(rows)
    head = ["server", "req/s", "req/s, every run", "CPU µs/req", "CPU µs/req, every run", "2 ÷ 1 worker req/s",
            "2 ÷ 1 worker CPU/req", "req/s ÷ python3.11", "worker CPU s (in the run)", "both CPUs busy",
            "p99 latency", "notes"]
    body = []
    for row in rows:
        if not row.get("ok"):
            body.append([row["label"], failed(row)] + [DASH] * (len(head) - 3) + [""])
            continue
        one = "%s/1" % row["runtime"]
        line = [row["label"], num(row["req_per_s"]), spread(row, "req_per_s"), num(row["cpu_us_per_req"]),
                spread(row, "cpu_us_per_req")]
        if row["workers"] == 2:
            line += [ratio(row["req_per_s"], value(ks, one, "req_per_s")),
                     ratio(row["cpu_us_per_req"], value(ks, one, "cpu_us_per_req"))]
        else:
            line += [DASH, DASH]
        line += [ratio(row["req_per_s"], value(ks, "python3.11/%d" % row["workers"], "req_per_s")),
                 " + ".join("%.2f" % w for w in row.get("worker_cpu_s", [])),
                 "%.0f%%" % (100 * row["machine_busy"]) if row.get("machine_busy") is not None else DASH,
                 num(row.get("p99_us"), " µs"), row.get("note", "")]
        body.append(line)
    return [
        "## 7. Every core: one process per core on one port",
        "",
        "`examples/every_core/server.py --workers N` (README.md, \"Every core\"): N worker processes, each a "
        "`ThreadingHTTPServer` (HTTP/1.1 keep-alive, a small JSON answer naming the worker) on its own "
        "`SO_REUSEPORT` socket of one port; the gevent row forks its workers from one listening socket "
        "(`--mode fork`), since `-m gevent.monkey` would not patch freshly started interpreters. "
        "`wrk -t1 -c50 -d%ds` after a 1 s warm-up; median of %d run(s), round-robin. "
        "**This machine has 2 CPUs**: with 1 worker the server is on CPU 0 and wrk on CPU 1, as in "
        "benchmark 2; with 2 workers the workers need both CPUs, so the server and wrk all run on "
        "CPUs 0-1 and wrk (single-threaded, in C) takes CPU time from the workers. 2 workers "
        "therefore cannot double req/s here; the fair measure is CPU µs/req (all the server's "
        "processes' utime+stime ÷ requests), which should stay flat from 1 to 2 workers. *worker "
        "CPU s* shows both workers carried load; *both CPUs busy* is the whole machine's busy share "
        "during the run (/proc/stat)." % (s["http_seconds"], s["http_repeats"]),
        "",
        *table(head, body),
        "",
    ]
