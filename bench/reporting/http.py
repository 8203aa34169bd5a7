"""Sections 2. HTTP and 2b. HTTPS."""
from reporting.format import DASH, by_key, failed, num, ratio, spread, table, value


def http_section(rows, s, chart):
    ks = by_key(rows)
    peers = [("threads", "threads"), ("gevent", "gevent")]
    head = ["server", "req/s", "CPU µs/req", "p50 latency", "p99 latency"]
    head += ["req/s ÷ %s" % n for _, n in peers] + ["CPU/req ÷ %s" % n for _, n in peers] + ["notes"]
    body = []
    for row in rows:
        if not row.get("ok"):
            body.append([row["label"], failed(row)] + [DASH] * (len(head) - 3) + [""])
            continue
        line = [row["label"], num(row["req_per_s"]), num(row["cpu_us_per_req"]),
                num(row.get("p50_us"), " µs"), num(row.get("p99_us"), " µs")]
        line += [ratio(row["req_per_s"], value(ks, k, "req_per_s")) for k, _ in peers]
        line += [ratio(row["cpu_us_per_req"], value(ks, k, "cpu_us_per_req")) for k, _ in peers]
        line.append(row.get("note", ""))
        body.append(line)
    return [
        "## 2. HTTP: `http.server.ThreadingHTTPServer`",
        "",
        "HTTP/1.1 keep-alive, a fixed %s-byte page with Content-Length, TCP_NODELAY, logging off; "
        "`wrk -t1 -c50 -d%ds` on CPU 1 after a 1 s warm-up, server on CPU 0; median of %d run(s). "
        "CPU µs/req = the server's utime+stime during the wrk run ÷ requests answered. "
        "`TFPYTHON_ACCELERATE=0` runs tfpython without its C stand-ins for `email.parser.Parser.parsestr` "
        "(which `http.client.parse_headers` calls for every request) and `email.utils.formatdate` "
        "(the `Date` header): the difference is theirs, the rest is the cooperative threads'."
        % (next((r["body_bytes"] for r in rows if r.get("body_bytes")), "small"),
           s["http_seconds"], s["http_repeats"]),
        "",
        *table(head, body),
        "",
        "![http](%s)" % chart,
        "",
    ]


def https_section(rows, s, chart):
    ks = by_key(rows)
    peers = [("threads", "threads"), ("gevent", "gevent")]
    head = ["server", "req/s", "CPU µs/req", "CPU µs/req, every run", "p50 latency", "p99 latency"]
    head += ["req/s ÷ %s" % n for _, n in peers] + ["CPU/req ÷ %s" % n for _, n in peers] + ["notes"]
    body = []
    for row in rows:
        if not row.get("ok"):
            body.append([row["label"], failed(row)] + [DASH] * (len(head) - 3) + [""])
            continue
        line = [row["label"], num(row["req_per_s"]), num(row["cpu_us_per_req"]), spread(row, "cpu_us_per_req"),
                num(row.get("p50_us"), " µs"), num(row.get("p99_us"), " µs")]
        line += [ratio(row["req_per_s"], value(ks, k, "req_per_s")) for k, _ in peers]
        line += [ratio(row["cpu_us_per_req"], value(ks, k, "cpu_us_per_req")) for k, _ in peers]
        line.append(row.get("note", ""))
        body.append(line)
    return [
        "## 2b. HTTPS: `ThreadingHTTPServer` over TLS",
        "",
        "Benchmark 2 over TLS: the listening socket wrapped with `SSLContext.wrap_socket` (the "
        "documentation's way; each accept makes the handshake), HTTP/1.1 keep-alive; "
        "`wrk -t1 -c50 -d%ds https://...` (wrk's OpenSSL, TLS 1.3) after a 1 s warm-up; median of %d "
        "run(s), round-robin. CPU/req ratios: lower is better." % (s["http_seconds"], s["http_repeats"]),
        "",
        *table(head, body),
        "",
        "![https](%s)" % chart,
        "",
    ]
