#!/usr/bin/python3.11
"""Renders run.py's results as a markdown report with PNG charts.

run.py calls write() at the end of a run; to re-render saved results:

    /usr/bin/python3.11 bench/report.py bench/results/raw/full.json [OUT.md]

Tables give absolute values and ratios against peers measured in the same
run. A ratio "a ÷ b" is this row's value divided by the peer's, so for
throughput above 1.00× is better and for CPU or latency below 1.00× is.
"""
import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

DASH = "–"
COLORS = {"tfpython": "#e8710a", "tfpython-plain": "#f5b97f", "tfpython-epoll": "#b5520a", "gevent": "#4c78a8",
          "python3.11": "#9d9d9d", "C": "#54a24b"}


# --------------------------------------------------------------- formatting

def num(x, unit=""):
    if x is None:
        return DASH
    if abs(x) >= 1000:
        text = "{:,.0f}".format(x)
    elif abs(x) >= 100:
        text = "%.0f" % x
    elif abs(x) >= 10:
        text = "%.1f" % x
    else:
        text = "%.2f" % x
    return text + unit


def ratio(a, b):
    if a is None or b is None or b == 0:
        return DASH
    return "%.2f×" % (a / b)


def esc(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def failed(row):
    return "failed: " + esc(row.get("error", "unknown"))


def table(headers, rows):
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    out += ["| " + " | ".join(esc(c) if not str(c).startswith("failed: ") else str(c) for c in row) + " |"
            for row in rows]
    return out


def by_key(rows):
    return {row["key"]: row for row in rows}


def value(rows, key, field):
    row = rows.get(key)
    return row.get(field) if row and row.get("ok") else None


# ------------------------------------------------------------------- charts

def bars(path, title, rows, panels):
    """Horizontal bar chart: one panel per (axis label, field, scale); a
    failed row shows the word "failed" instead of a bar."""
    labels = [row["label"] for row in rows]
    fig, axes = plt.subplots(1, len(panels), figsize=(4.6 * len(panels) + 2.2, 0.42 * len(rows) + 1.6),
                             sharey=True, squeeze=False)
    for ax, (xlabel, field, scale) in zip(axes[0], panels):
        values = [row.get(field) * scale if row.get("ok") and row.get(field) is not None else None
                  for row in rows]
        colors = [COLORS.get(row.get("runtime"), "#9d9d9d") for row in rows]
        drawn = ax.barh(range(len(rows)), [v or 0 for v in values], color=colors)
        for bar, row in zip(drawn, rows):
            if "has not patched" in (row.get("note") or ""):
                bar.set_hatch("//")
                bar.set_edgecolor("white")
        top = max([v for v in values if v is not None] or [1])
        for i, v in enumerate(values):
            ax.text(v if v is not None else 0, i, " " + (num(v) if v is not None else "failed"),
                    va="center", fontsize=8, color="black" if v is not None else "#c0392b")
        ax.set_xlim(0, top * 1.3)
        ax.set_xlabel(xlabel, fontsize=9)
        ax.tick_params(axis="x", labelsize=8)
        ax.grid(axis="x", alpha=0.3)
    axes[0][0].set_yticks(range(len(rows)))
    axes[0][0].set_yticklabels(labels, fontsize=8)
    axes[0][0].invert_yaxis()
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ----------------------------------------------------------------- sections

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


def spread(row, field):
    """"a–b" of a field's per-window values, when there was more than one."""
    lo_hi = row.get(field + "_range")
    if not lo_hi or lo_hi[0] == lo_hi[1]:
        return ""
    return "%s–%s" % (num(lo_hi[0]), num(lo_hi[1]))


def tls_section(rows, s, chart):
    ks = by_key(rows)
    peers = [("threads", "threads"), ("gevent", "gevent")]
    head = ["server", "msgs/s", "CPU µs/msg", "CPU µs/msg, every window", "msgs per CPU s"]
    head += ["msgs/s ÷ %s" % n for _, n in peers] + ["msgs per CPU s ÷ %s" % n for _, n in peers] + ["notes"]
    body = []
    for row in rows:
        if not row.get("ok"):
            body.append([row["label"], failed(row)] + [DASH] * (len(head) - 3) + [""])
            continue
        cpu = row["cpu_us_per_msg"]
        line = [row["label"], num(row["msgs_per_s"]), num(cpu), spread(row, "cpu_us_per_msg"), num(1e6 / cpu)]
        line += [ratio(row["msgs_per_s"], value(ks, k, "msgs_per_s")) for k, _ in peers]
        line += [ratio(value(ks, k, "cpu_us_per_msg"), cpu) for k, _ in peers]
        line.append(row.get("note", ""))
        body.append(line)
    return [
        "## 1b. TLS echo ping-pong",
        "",
        "Benchmark 1 over TLS: `echo_tls_threads.py` (stdlib `ssl`, a thread per connection, blocking "
        "sockets, the handshake in the connection's thread) against `loadgen --tls` (OpenSSL, the "
        "library's defaults: TLS 1.3), %d connections × 64-byte messages, a self-signed P-256 "
        "certificate made by `openssl req` for the run. Median of %d window(s) of %g s, round-robin. "
        "*msgs per CPU s* = 1 ÷ CPU µs/msg: its ratios are higher-is-better (the goal: ≥ 2× gevent, "
        "≥ 1.3× python3.11 threads)." % (50, s["echo_repeats"], s["echo_seconds"]),
        "",
        *table(head, body),
        "",
        "![tls](%s)" % chart,
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


ECHO_SCALE_ORDER = [("c",), ("tf_threads",), ("tf_spawn",), ("gevent",), ("threads",), ("uvloop",)]
ECHO_SCALE_COLORS = {"c": "#54a24b", "tf_threads": "#e8710a", "tf_spawn": "#b5520a", "gevent": "#4c78a8",
                     "threads": "#9d9d9d", "uvloop": "#5a5a5a"}


def echo_scale_chart(path, rows):
    peers = []
    for row in rows:
        if row["peer"] not in peers:
            peers.append(row["peer"])
    fig, ax = plt.subplots(figsize=(7.5, 4.6))
    for peer in peers:
        points = [(row["conns"], row["cpu_us_per_msg"], row.get("cpu_us_per_msg_range"))
                  for row in rows if row["peer"] == peer and row.get("ok")]
        if not points:
            continue
        label = next(row["label"] for row in rows if row["peer"] == peer).rsplit(", ", 1)[0]
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        ax.plot(xs, ys, marker="o", label=label, color=ECHO_SCALE_COLORS.get(peer))
        for x, _, rng in points:
            if rng and rng[0] != rng[1]:
                ax.vlines(x, rng[0], rng[1], color=ECHO_SCALE_COLORS.get(peer), alpha=0.5)
    ax.set_xscale("log")
    ax.set_xlabel("connections (log scale)")
    ax.set_ylabel("server CPU µs per message (lower is better)")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    ax.set_title("Echo ping-pong, 64 B: CPU per message against connections", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


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


def sleepers_section(rows, s, startup_rows, chart):
    ks = by_key(rows)
    base = {}
    for row in startup_rows or []:
        if row.get("ok") and row.get("snippet") == "pass":
            base[row["runtime"]] = row["peak_rss_kib"]
    peers = [("gevent_spawn", "gevent.spawn"), ("asyncio", "asyncio")]
    head = ["workload", "tasks", "run s", "spawn s", "process wall s", "peak RSS MiB", "KiB/task"]
    head += ["run ÷ %s" % n for _, n in peers] + ["RSS ÷ %s" % n for _, n in peers] + ["notes"]
    body = []
    for row in rows:
        if not row.get("ok"):
            body.append([row["label"], failed(row)] + [DASH] * (len(head) - 3) + [""])
            continue
        rss = row["process_rss_kib"]
        per_task = (rss - base[row["baseline"]]) / row["n"] if row.get("baseline") in base else None
        row["kib_per_task"] = per_task
        line = [row["label"], "{:,}".format(row["n"]), num(row["run_s"]), num(row["spawn_s"]),
                num(row["process_wall_s"]), num(rss / 1024), num(per_task)]
        line += [ratio(row["run_s"], value(ks, k, "run_s")) for k, _ in peers]
        line += [ratio(rss, value(ks, k, "process_rss_kib")) for k, _ in peers]
        line.append(row.get("note", ""))
        body.append(line)
    return [
        "## 3. %s sleepers" % "{:,}".format(s["sleepers"]),
        "",
        "Each task sleeps a random 0–1 s (same seed everywhere), pinned to CPU 0. run s = first spawn "
        "to last join (ideal: just over 1 s); spawn s = starting all of them; process wall s and "
        "peak RSS from `/usr/bin/time -f '%%e %%M'`; KiB/task = (peak RSS − the runtime's `-c pass` "
        "RSS from benchmark 4) ÷ tasks. Each row is the median of %d run(s) by run s, whole (a faster "
        "spawn leaves more tasks alive at the peak, so time and RSS are kept together); the notes give "
        "the ranges. Plain python3.11 threads are OS threads: capped at "
        "%s (100,000 would exceed pid_max 32768 and max_map_count), so compare them per task."
        % (s.get("sleepers_repeats", 1), "{:,}".format(min(s["sleepers"], s["os_thread_cap"]))),
        "",
        *table(head, body),
        "",
        "![sleepers](%s)" % chart,
        "",
    ]


def conns_section(rows, s, chart):
    ks = by_key(rows)
    peers = [("threads", "python3.11 threads"), ("gevent", "gevent")]
    head = ["server", "connections", "KiB/conn", "pymalloc blocks/conn", "malloc B/conn", "saved C stack B/conn"]
    head += ["÷ %s" % n for _, n in peers] + ["notes"]
    body = []
    for row in rows:
        if not row.get("ok"):
            body.append([row["label"], failed(row)] + [DASH] * (len(head) - 3) + [""])
            continue
        n, before, after = row["conns"], row.get("before") or {}, row.get("after") or {}

        def per(*path):
            a, b = after, before
            for k in path:
                a, b = (a or {}).get(k), (b or {}).get(k)
            return None if a is None or b is None else (a - b) / n

        stack = per("framework", "fiber_stack_bytes")
        body.append([row["label"], "{:,}".format(n), num(row["kib_per_conn"]), num(per("allocated_blocks")),
                     num(per("malloc", "uordblks")), num(stack) if stack else DASH]
                    + [ratio(row["kib_per_conn"], value(ks, k, "kib_per_conn")) for k, _ in peers]
                    + [row.get("note", "")])
    return [
        "## 3b. Memory per idle connection",
        "",
        "`idle_conns.py`: an echo server (benchmark 1's, pinned to CPU 0) gets 200 connections that "
        "come and go (one-off costs), then %s connections, each echoing two 64-byte messages so "
        "that its handler is parked in `recv` again; KiB/conn = the server's VmRSS growth ÷ "
        "connections (kernel socket buffers are not in RSS). The breakdown comes from the server "
        "itself (SIGUSR1): `sys.getallocatedblocks()`, glibc `mallinfo2().uordblks`, and for "
        "fiber-threads the C stack copies they keep while parked (`_framework_core.memory_stats()`). "
        "Median of %d run(s)." % ("{:,}".format(rows[0].get("conns", 5000)) if rows else "5,000",
                                  s.get("conns_repeats", 1)),
        "",
        *table(head, body),
        "",
        "![conns](%s)" % chart,
        "",
    ]


def startup_section(rows, s, chart):
    ks = by_key(rows)
    head = ["runtime", "command", "mean ms", "σ ms", "÷ python3.11", "peak RSS MiB", "RSS ÷ python3.11"]
    body = []
    for row in rows:
        snippet = "`-c \"%s\"`" % row["code"]
        if not row.get("ok"):
            body.append([row["label"], snippet, failed(row)] + [DASH] * 4)
            continue
        peer = "python3.11/" + row["snippet"]
        body.append([row["label"], snippet, num(row["mean_s"] * 1e3), num(row["stddev_s"] * 1e3),
                     ratio(row["mean_s"], value(ks, peer, "mean_s")), num(row["peak_rss_kib"] / 1024),
                     ratio(row["peak_rss_kib"], value(ks, peer, "peak_rss_kib"))])
    return [
        "## 4. Start-up",
        "",
        "`hyperfine -N --warmup %d --runs %d` pinned to CPU 0 (mean wall time); peak RSS is the "
        "median of %d runs under `/usr/bin/time -f %%M`. The gevent row runs "
        "`from gevent import monkey; monkey.patch_all()` first, what a gevent program pays at start."
        % (s["startup_warmup"], s["startup_runs"], s["rss_runs"]),
        "",
        *table(head, body),
        "",
        "![startup](%s)" % chart,
        "",
    ]


def idle_section(rows, s):
    ks = by_key(rows)
    runtimes = ["python3.11", "gevent", "tfpython"]
    phases = [("sleep", "time.sleep(%g)" % s["idle_seconds"]),
              ("select", "select.select() on an idle socket"),
              ("selectors", "selectors.DefaultSelector().select()"),
              ("oneliner", "`-c \"import time; time.sleep(%g)\"`, whole process" % s["idle_seconds"])]
    head = ["blocked in", "python3.11 CPU ms", "gevent CPU ms", "tfpython CPU ms",
            "tfpython − python3.11 ms", "notes"]
    body = []
    for phase, label in phases:
        line = [label]
        for rt in runtimes:
            row = ks.get("%s/%s" % (rt, phase))
            line.append(DASH if row is None else num(row["cpu_ms"]) if row.get("ok") else failed(row))
        tf, py = value(ks, "tfpython/" + phase, "cpu_ms"), value(ks, "python3.11/" + phase, "cpu_ms")
        line.append(num(tf - py) if tf is not None and py is not None else DASH)
        tf_row = ks.get("tfpython/" + phase) or {}
        line.append(tf_row.get("note", "") if tf_row.get("ok") else "")
        body.append(line)
    return [
        "## 5. Idle CPU while blocked",
        "",
        "utime+stime of the whole process (all threads) across one blocking call of %g s, measured "
        "inside the process so start-up is left out; the last row is the literal one-liner, start-up "
        "included (RUSAGE_CHILDREN). A blocked process should use a few ms at most; a busy-polling "
        "loop shows up here as hundreds." % s["idle_seconds"],
        "",
        *table(head, body),
        "",
    ]


def overshoot_table(rows):
    ks = by_key(rows)
    head = ["runtime", "p50 µs", "p90 µs", "p99 µs", "max µs", "mean µs", "p50 ÷ python3.11",
            "p99 ÷ python3.11"]
    body = []
    for row in rows:
        if not row.get("ok"):
            body.append([row["label"], failed(row)] + [DASH] * (len(head) - 2))
            continue
        body.append([row["label"]] + [num(row[k]) for k in ("p50", "p90", "p99", "max", "mean")]
                    + [ratio(row["p50"], value(ks, "python3.11", "p50")),
                       ratio(row["p99"], value(ks, "python3.11", "p99"))])
    return table(head, body)


def latency_section(sections, s, chart):
    sleep_rows, select_rows = sections["sleep"], sections["select"]
    out = ["## 6. Wake-up latency", ""]
    out += ["### (a) `time.sleep(0.05)` overshoot", "",
            "How late each of %d sleeps of 50 ms returns (elapsed − 50 ms), pinned to CPU 0."
            % s["sleep_samples"], "", *overshoot_table(sleep_rows), ""]
    if "select_timeout" in sections:
        out += ["### (a2) `select.select(..., timeout=0.05)` overshoot", "",
                "The same for %d selects on a pipe that never becomes readable: the timeout is the "
                "deadline, also for a single fd." % s["sleep_samples"], "",
                *overshoot_table(sections["select_timeout"]), ""]
    ks = by_key(select_rows)
    head = ["reader / writer", "p50 µs", "p90 µs", "p99 µs", "max µs", "p50 ÷ python3.11 threads",
            "p99 ÷ python3.11 threads", "notes"]
    body = []
    for row in select_rows:
        if not row.get("ok"):
            body.append([row["label"], failed(row)] + [DASH] * (len(head) - 2))
            continue
        body.append([row["label"]] + [num(row[k]) for k in ("p50", "p90", "p99", "max")]
                    + [ratio(row["p50"], value(ks, "python3.11", "p50")),
                       ratio(row["p99"], value(ks, "python3.11", "p99")), row.get("note", "")])
    out += ["### (b) write on a loopback socket → `select.select` returns in another thread/greenlet", "",
            "%d writes, 1–3 ms apart; latency = the reader's clock when select returns − the "
            "writer's clock just before send." % s["select_samples"], "", *table(head, body), "",
            "![latency](%s)" % chart, ""]
    return out


def failures(results):
    """[(benchmark, row)] for every failed run."""
    out = []
    for name, rows in results["benchmarks"].items():
        for group in (rows.values() if isinstance(rows, dict) else [rows]):
            out += [(name, row) for row in group if not row.get("ok")]
    return out


def summary(results):
    """Every failed run and every unpatched tfpython run, so a reader (or a
    CI log) sees them first."""
    out = []
    fails = failures(results)
    if fails:
        out += ["**%d run(s) failed:**" % len(fails), ""]
        out += ["- %s / %s%s: %s" % (name, row["label"], " `-c \"%s\"`" % row["code"] if "code" in row else "",
                                     esc(row.get("error"))) for name, row in fails]
        out.append("")
    else:
        out += ["Every benchmark ran.", ""]
    unpatched = []
    for name, rows in results["benchmarks"].items():
        for group in (rows.values() if isinstance(rows, dict) else [rows]):
            unpatched += ["- %s / %s: %s" % (name, row["label"], row["note"]) for row in group
                          if row.get("ok") and "has not patched" in (row.get("note") or "")]
    if unpatched:
        out += ["**tfpython runs that worked without the patches they are meant to measure** "
                "(OS threads and blocking calls, like plain python3.11; hatched in the charts):", "",
                *unpatched, ""]
    return out


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


# -------------------------------------------------------------------- write

def write(results, md_path, chart_dir):
    md_path, chart_dir = Path(md_path), Path(chart_dir)
    chart_dir.mkdir(parents=True, exist_ok=True)
    s, meta, b = results["settings"], results["meta"], results["benchmarks"]

    def chart(name):
        return chart_dir / (name + ".png"), (chart_dir / (name + ".png")).relative_to(md_path.parent)

    quick = results["mode"] == "quick"
    lines = [
        "# tfpython benchmarks%s" % (" (quick mode)" if quick else ""),
        "",
        "Made by `bash bench/run.sh%s --tfpython %s%s` on %s; commit %s; took %.0f s."
        % (" --quick" if quick else "", meta["tfpython_path"],
           " --only " + ",".join(meta.get("rerun") or meta["only"]) if meta.get("only") else "",
           meta["date"], meta["commit"],
           meta.get("duration_s", 0)),
        "Machine: %s, %s CPUs, Linux %s. %s, gevent %s, uvloop %s, %s, %s. tfpython: %s."
        % (meta["cpu"], meta["cpus"], meta["kernel"], meta["python"], meta["gevent"], meta["uvloop"],
           meta["wrk"], meta["hyperfine"], meta["tfpython"]) + (" %s." % meta["openssl"] if meta.get("openssl") else ""),
        "",
    ]
    merged = meta.get("merged_from")
    if merged:
        lines[4:4] = ["", "Merged (`--only %s --merge`): those were measured in this run; the others come "
                      "from the run on %s, commit %s, which took %.0f s." % (
                          ",".join(meta.get("rerun", [])), merged["date"], merged["commit"],
                          merged.get("duration_s", 0))]
    load = meta.get("loadavg_start")
    if load is not None and load > 0.5:
        lines += ["> Other work was running: load average %.2f at the start, %s at the end (2 CPUs). "
                  "Absolute numbers are disturbed; ratios within this run less so."
                  % (load, "%.2f" % meta["loadavg_end"] if meta.get("loadavg_end") is not None else "?"), ""]
    if quick:
        lines += ["> Quick mode: each benchmark ran for a few seconds to prove it still works. "
                  "The numbers are noisy; compare with `latest.md`, not with each other.", ""]
    lines += summary(results)

    if "echo" in b:
        png, rel = chart("echo")
        bars(png, "Echo ping-pong, 50 conns x 64 B", b["echo"],
             [("messages/s (higher is better)", "msgs_per_s", 1),
              ("server CPU µs per message (lower is better)", "cpu_us_per_msg", 1)])
        lines += echo_section(b["echo"], s, rel)
    if "http" in b:
        png, rel = chart("http")
        bars(png, "ThreadingHTTPServer, wrk -t1 -c50", b["http"],
             [("requests/s (higher is better)", "req_per_s", 1),
              ("server CPU µs per request (lower is better)", "cpu_us_per_req", 1)])
        lines += http_section(b["http"], s, rel)
    if "tls" in b:
        png, rel = chart("tls")
        bars(png, "TLS echo ping-pong, 50 conns x 64 B", b["tls"],
             [("messages/s (higher is better)", "msgs_per_s", 1),
              ("server CPU µs per message (lower is better)", "cpu_us_per_msg", 1)])
        lines += tls_section(b["tls"], s, rel)
    if "https" in b:
        png, rel = chart("https")
        bars(png, "HTTPS ThreadingHTTPServer, wrk -t1 -c50", b["https"],
             [("requests/s (higher is better)", "req_per_s", 1),
              ("server CPU µs per request (lower is better)", "cpu_us_per_req", 1)])
        lines += https_section(b["https"], s, rel)
    if "echoscale" in b:
        png, rel = chart("echo_scale")
        echo_scale_chart(png, b["echoscale"])
        lines += echo_scale_section(b["echoscale"], rel)
    if "cores" in b:
        lines += cores_section(b["cores"], s)
    if "sleepers" in b:
        png, rel = chart("sleepers")
        lines += sleepers_section(b["sleepers"], s, b.get("startup"), rel)
        bars(png, "{:,} sleepers (python3.11 threads capped)".format(s["sleepers"]), b["sleepers"],
             [("first spawn to last join, s", "run_s", 1), ("peak RSS, MiB", "process_rss_kib", 1 / 1024)])
    if "conns" in b:
        png, rel = chart("conns")
        bars(png, "Memory per idle connection (5,000 parked in recv)", b["conns"],
             [("KiB per connection (lower is better)", "kib_per_conn", 1)])
        lines += conns_section(b["conns"], s, rel)
    lines += engines_section(b)
    if "startup" in b:
        png, rel = chart("startup")
        rows = [dict(r, label="%s: %s" % (r["label"], r["snippet"])) for r in b["startup"]]
        bars(png, "Start-up (hyperfine -N)", rows,
             [("mean wall time, ms", "mean_s", 1e3), ("peak RSS, MiB", "peak_rss_kib", 1 / 1024)])
        lines += startup_section(b["startup"], s, rel)
    if "idle" in b:
        lines += idle_section(b["idle"], s)
    if "latency" in b:
        png, rel = chart("latency")
        rows = ([dict(r, label="sleep(0.05): " + r["label"]) for r in b["latency"]["sleep"]]
                + [dict(r, label="select(t=0.05): " + r["label"])
                   for r in b["latency"].get("select_timeout", [])]
                + [dict(r, label="select: " + r["label"]) for r in b["latency"]["select"]])
        bars(png, "Wake-up latency (µs)", rows,
             [("p50 µs", "p50", 1), ("p99 µs", "p99", 1), ("max µs", "max", 1)])
        lines += latency_section(b["latency"], s, rel)

    lines += ["Raw numbers of every run: `bench/results/raw/%s.json` (not committed); each "
              "process's stderr: `bench/results/raw/logs-%s/`." % (results["mode"], results["mode"]), ""]
    md_path.write_text("\n".join(lines))


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: report.py RESULTS.json [OUT.md]")
    results = json.loads(Path(sys.argv[1]).read_text())
    here = Path(__file__).resolve().parent / "results"
    default = here / ("quick.md" if results["mode"] == "quick" else "latest.md")
    md = Path(sys.argv[2]) if len(sys.argv) > 2 else default
    write(results, md, md.parent / "quick" if results["mode"] == "quick" else md.parent)


if __name__ == "__main__":
    main()
