"""Section 3. N sleepers."""
from reporting.format import DASH, by_key, failed, num, ratio, table, value


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
