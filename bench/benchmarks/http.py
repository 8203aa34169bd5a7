"""2. HTTP and 2b. HTTPS: ThreadingHTTPServer under wrk, and reading
wrk's output."""
import re

from benchmarks.tls import tls_certificate
from harness.processes import CLIENT_CPU, HOST, Failed, Server
from harness.rows import engine_note, median_of, round_robin, unpatched_note

HTTP_CONNS = 50


WRK_LATENCY = re.compile(r"^\s*(50|99)%\s+([\d.]+)(us|ms|s)\s*$", re.M)


def parse_wrk(out):
    m = re.search(r"(\d+) requests in ([\d.]+)(\w+)", out)
    rps = re.search(r"Requests/sec:\s*([\d.]+)", out)
    if not m or not rps:
        raise Failed("could not read wrk's output")
    result = {"requests": int(m.group(1)), "req_per_s": float(rps.group(1))}
    scale = {"us": 1.0, "ms": 1e3, "s": 1e6}
    for pct, value, unit in WRK_LATENCY.findall(out):
        result["p%s_us" % pct] = float(value) * scale[unit]
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    result["socket_errors"] = sum(int(x) for x in errors.groups()) if errors else 0
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    result["non_2xx"] = int(non2xx.group(1)) if non2xx else 0
    return result


def http_rows(r, tls=False):
    """2. HTTP: ThreadingHTTPServer (HTTP/1.1 keep-alive) under wrk -t1 -c50;
    with tls, the same over HTTPS (the HTTPS benchmark)."""
    s = r.s
    rows = [
        dict(key="threads", label="python3.11 ThreadingHTTPServer", runtime="python3.11"),
        dict(key="gevent", label="gevent (-m gevent.monkey)", runtime="gevent"),
        dict(key="tfpython", label="tfpython", runtime="tfpython"),
        dict(key="tfpython_plain", label="tfpython, TFPYTHON_ACCELERATE=0", runtime="tfpython-plain"),
        dict(key="tfpython_epoll", label="tfpython, epoll engine", runtime="tfpython-epoll"),
    ]
    if tls:  # the accelerators' share is HTTP's own, measured by benchmark 2
        rows = [row for row in rows if row["key"] != "tfpython_plain"]
    wrk = ["wrk", "-t1", "-c%d" % HTTP_CONNS, "--timeout", "2s", "--latency"]
    name = "https" if tls else "http"
    needs = ("socket", "threading", "selectors") + (("ssl",) if tls else ())

    def start(row):
        r.check_runtime(row["runtime"])
        args = ["--tls", *tls_certificate(r)] if tls else []
        return Server(r, "%s %s" % (name, row["label"]), r.command(row["runtime"], "http_server.py", *args)), ""

    def window(row, server, i):
        if i == 0:
            row["note"] = "; ".join(filter(None, [unpatched_note(server.info, needs),
                                                  engine_note(row, server.info)]))
            if row["runtime"].startswith("tfpython"):
                wanted = [] if row["runtime"] == "tfpython-plain" else ["email.parser", "email.utils"]
                if server.info.get("accelerated") != wanted:
                    raise Failed("C stand-ins in use: %s, expected %s" % (server.info.get("accelerated"), wanted))
        url = "%s://%s:%d/" % (name, HOST, server.port)
        r.run("%s %s warm-up %d" % (name, row["label"], i), wrk + ["-d1s", url], 20, cpu=CLIENT_CPU)
        cpu0 = server.cpu_seconds()
        out, _ = r.run("%s %s run %d" % (name, row["label"], i), wrk + ["-d%ds" % s.http_seconds, url],
                       s.http_seconds + 20, cpu=CLIENT_CPU)
        cpu = server.cpu_seconds() - cpu0
        result = parse_wrk(out)
        if result["requests"] == 0:
            raise Failed("no request answered")
        result.update(server_cpu_s=cpu, cpu_us_per_req=cpu / result["requests"] * 1e6,
                      body_bytes=server.info.get("body_bytes"))
        return result

    def summarize(row, runs):
        errors = sum(x["socket_errors"] + x["non_2xx"] for x in runs)
        if errors:
            row["note"] = "; ".join(filter(None, [row.get("note"),
                                                  "%d socket errors / non-2xx answers" % errors]))
        return {"req_per_s": median_of(runs, "req_per_s"), "body_bytes": runs[0]["body_bytes"],
                "cpu_us_per_req": median_of(runs, "cpu_us_per_req"),
                "cpu_us_per_req_range": [min(x["cpu_us_per_req"] for x in runs),
                                         max(x["cpu_us_per_req"] for x in runs)],
                "p50_us": median_of(runs, "p50_us") if all("p50_us" in x for x in runs) else None,
                "p99_us": median_of(runs, "p99_us") if all("p99_us" in x for x in runs) else None}

    return round_robin(r, rows, start, window, summarize, s.http_repeats)
