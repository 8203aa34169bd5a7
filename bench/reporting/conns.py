"""Section 3b. Memory per idle connection."""
from reporting.format import DASH, by_key, failed, num, ratio, table, value


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
