"""Section 5. Idle CPU while blocked."""
from reporting.format import DASH, by_key, failed, num, table, value


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
