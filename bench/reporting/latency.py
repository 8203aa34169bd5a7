"""Section 6. Wake-up latency."""
from reporting.format import DASH, by_key, failed, num, ratio, table, value


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
