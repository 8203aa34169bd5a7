"""Sections 1. Echo ping-pong and 1c. Echo against connections."""
from reporting.format import DASH, by_key, failed, num, ratio, spread, table, value

ECHO_SCALE_ORDER = [("c",), ("tf_threads",), ("tf_spawn",), ("gevent",), ("threads",), ("uvloop",)]


def echo_section(rows, s, chart):
    ks = by_key(rows)
    peers = [("c", "C"), ("threads", "threads"), ("gevent", "gevent")]
    head = ["server", "msgs/s", "CPU µs/msg"]
    head += ["msgs/s ÷ %s" % name for _, name in peers] + ["CPU/msg ÷ %s" % name for _, name in peers]
    head.append("notes")
    body = []
    for row in rows:
        if not row.get("ok"):
            body.append([row["label"], failed(row)] + [DASH] * (len(head) - 3) + [""])
            continue
        line = [row["label"], num(row["msgs_per_s"]), num(row["cpu_us_per_msg"])]
        line += [ratio(row["msgs_per_s"], value(ks, k, "msgs_per_s")) for k, _ in peers]
        line += [ratio(row["cpu_us_per_msg"], value(ks, k, "cpu_us_per_msg")) for k, _ in peers]
        line.append(row.get("note", ""))
        body.append(line)
    return [
        "## 1. Echo ping-pong",
        "",
        "%d connections, 64-byte messages, each connection sends one message and waits for its echo "
        "(`loadgen` on CPU 1, server on CPU 0). Median of %d window(s) of %g s after a warm-up. "
        "CPU µs/msg = the server's utime+stime over the window ÷ messages echoed. "
        "msgs/s ratios: higher is better; CPU ratios: lower is better."
        % (50, s["echo_repeats"], s["echo_seconds"]),
        "",
        *table(head, body),
        "",
        "![echo](%s)" % chart,
        "",
    ]


def echo_scale_section(rows, chart):
    if not rows:
        return ["## 1c. Echo against connections", "",
                "Not measured: the open-file limit holds none of the connection counts (run.py raises "
                "the soft limit to the hard one; the run's log names the limit).", ""]
    ks = by_key(rows)
    counts = sorted({row["conns"] for row in rows})
    head = ["server", "connections", "msgs/s", "CPU µs/msg", "CPU µs/msg, every window",
            "CPU/msg ÷ C", "CPU/msg ÷ gevent", "notes"]
    body = []
    for row in sorted(rows, key=lambda r: ([p[0] for p in ECHO_SCALE_ORDER].index(r["peer"])
                                           if r["peer"] in [p[0] for p in ECHO_SCALE_ORDER] else 99, r["conns"])):
        n = row["conns"]
        if not row.get("ok"):
            body.append([row["label"].rsplit(", ", 1)[0], "{:,}".format(n), failed(row)] + [DASH] * 4 + [""])
            continue
        cpu = row["cpu_us_per_msg"]
        body.append([row["label"].rsplit(", ", 1)[0], "{:,}".format(n), num(row["msgs_per_s"]), num(cpu),
                     spread(row, "cpu_us_per_msg"),
                     ratio(cpu, value(ks, "c/%d" % n, "cpu_us_per_msg")),
                     ratio(cpu, value(ks, "gevent/%d" % n, "cpu_us_per_msg")), row.get("note", "")])
    first = rows[0]
    return [
        "## 1c. Echo against connections",
        "",
        "Benchmark 1 swept over %s connections (64-byte ping-pong, one message in flight per "
        "connection; `loadgen` on CPU 1, server on CPU 0). At each count every server is started "
        "fresh and measured round-robin, %d window(s) of %g s each after the warm-up; the median is "
        "shown with every window's value. Plain python3.11 threads are OS threads: that row stops at "
        "1,000 connections. The open-file limit was %s (run.py raises the soft limit to the hard "
        "one; a count it cannot hold is left out). At 1,000 connections and more the single-threaded "
        "load generator, not the server, bounds msgs/s: compare CPU µs/msg. CPU ratios: lower is better."
        % (", ".join("{:,}".format(c) for c in counts), first.get("windows", 1), first.get("window_s", 0),
           "{:,}".format(first.get("nofile", 0))),
        "",
        *table(head, body),
        "",
        "![echo against connections](%s)" % chart,
        "",
    ]
