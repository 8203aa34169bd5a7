"""1b. TLS echo ping-pong, and the run's self-signed certificate (which
the HTTPS benchmark uses too)."""
from benchmarks.echo import echo_window
from harness.processes import Server
from harness.rows import engine_note, median_of, round_robin, unpatched_note


def tls_certificate(r):
    """A self-signed P-256 certificate for 127.0.0.1, made once per run by
    openssl(1) into the build directory: (certfile, keyfile)."""
    cert, key = r.build_dir / "tls-cert.pem", r.build_dir / "tls-key.pem"
    if not r.tls_made:
        r.run("tls certificate", ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                                  "ec_paramgen_curve:prime256v1", "-nodes", "-days", "30",
                                  "-subj", "/CN=localhost", "-keyout", key, "-out", cert], 30)
        r.tls_made = True
    return cert, key


def tls_rows(r):
    """TLS echo ping-pong: echo 1 over TLS (stdlib ssl, a thread per
    connection, blocking sockets), `loadgen --tls`; the C row is the same
    server in C (epoll, OpenSSL's defaults), the floor of the others."""
    s = r.s
    rows = [
        dict(key="c", label="C OpenSSL + epoll (echo_tls_epoll.c)", runtime="C", needs=()),
        dict(key="threads", label="python3.11 threads", runtime="python3.11", needs=()),
        dict(key="gevent", label="gevent threads (-m gevent.monkey)", runtime="gevent", needs=()),
        dict(key="tf_threads", label="tfpython threads", runtime="tfpython",
             needs=("socket", "threading", "ssl")),
        dict(key="tf_threads_epoll", label="tfpython threads, epoll engine", runtime="tfpython-epoll",
             needs=("socket", "threading", "ssl")),
    ]

    def start(row):
        r.binary("loadgen")
        cert, key = tls_certificate(r)
        if row["runtime"] == "C":
            cmd = [r.binary("echo_tls_epoll"), cert, key]
        else:
            r.check_runtime(row["runtime"])
            cmd = r.command(row["runtime"], "echo_tls_threads.py", cert, key)
        return Server(r, "tls " + row["label"], cmd), ""

    def window(row, server, i):
        if i == 0:
            row["note"] = "; ".join(filter(None, [unpatched_note(server.info, row["needs"]),
                                                  engine_note(row, server.info)]))
        return echo_window(r, server, r.binary("loadgen"), "tls %s run %d" % (row["label"], i), tls=True)

    def summarize(row, runs):
        return {"msgs_per_s": median_of(runs, "msgs_per_s"),
                "cpu_us_per_msg": median_of(runs, "cpu_us_per_msg"),
                "cpu_us_per_msg_range": [min(x["cpu_us_per_msg"] for x in runs),
                                         max(x["cpu_us_per_msg"] for x in runs)]}

    round_robin(r, rows, start, window, summarize, s.echo_repeats)
    for row in rows:
        del row["needs"]
    return rows
