"""Section 1b. TLS echo ping-pong."""
from reporting.format import DASH, by_key, failed, num, ratio, spread, table, value


def tls_section(rows, s, chart):
    ks = by_key(rows)
    peers = [("threads", "threads"), ("gevent", "gevent")]
    cpu_peers = [("c", "C")] + peers
    head = ["server", "msgs/s", "CPU µs/msg", "CPU µs/msg, every window", "msgs per CPU s"]
    head += ["msgs/s ÷ %s" % n for _, n in peers] + ["msgs per CPU s ÷ %s" % n for _, n in cpu_peers] + ["notes"]
    body = []
    for row in rows:
        if not row.get("ok"):
            body.append([row["label"], failed(row)] + [DASH] * (len(head) - 3) + [""])
            continue
        cpu = row["cpu_us_per_msg"]
        line = [row["label"], num(row["msgs_per_s"]), num(cpu), spread(row, "cpu_us_per_msg"), num(1e6 / cpu)]
        line += [ratio(row["msgs_per_s"], value(ks, k, "msgs_per_s")) for k, _ in peers]
        line += [ratio(value(ks, k, "cpu_us_per_msg"), cpu) for k, _ in cpu_peers]
        line.append(row.get("note", ""))
        body.append(line)
    return [
        "## 1b. TLS echo ping-pong",
        "",
        "Benchmark 1 over TLS: `echo_tls_threads.py` (stdlib `ssl`, a thread per connection, blocking "
        "sockets, the handshake in the connection's thread) against `loadgen --tls` (OpenSSL, the "
        "library's defaults: TLS 1.3), %d connections × 64-byte messages, a self-signed P-256 "
        "certificate made by `openssl req` for the run. The C row is the same server without an "
        "interpreter (`echo_tls_epoll.c`: epoll, non-blocking sockets, OpenSSL's defaults, `SSL_read` "
        "of 64 bytes while OpenSSL holds data, then back to epoll): what the kernel and OpenSSL cost per message, a floor "
        "for the others. Median of %d window(s) of %g s, round-robin. "
        "*msgs per CPU s* = 1 ÷ CPU µs/msg: its ratios are higher-is-better (the goal: ≥ 2× gevent, "
        "≥ 1.3× python3.11 threads)." % (50, s["echo_repeats"], s["echo_seconds"]),
        "",
        *table(head, body),
        "",
        "![tls](%s)" % chart,
        "",
    ]
