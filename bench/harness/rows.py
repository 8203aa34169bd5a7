"""The rows of a benchmark's table: how a measurement becomes a row (ok,
or "failed: <reason>"), the notes every benchmark adds to its tfpython rows,
and round_robin, which measures several servers in turn."""
import contextlib
import statistics

from harness.processes import Failed


def unpatched_note(info, needs):
    """For tfpython rows: which of the modules this workload relies on are not
    patched yet (so it measured OS threads / blocking calls)."""
    if info.get("runtime") != "tfpython":
        return ""
    missing = [m for m in needs if m not in info.get("patched", [])]
    if not missing:
        return ""
    return "tfpython has not patched %s yet" % ", ".join(missing)


def engine_note(row, info):
    """tfpython rows name their engine: the epoll rows must run on epoll, the
    others say so when this machine refused io_uring."""
    backend = info.get("backend")
    if row["runtime"] == "tfpython-epoll" and backend != "epoll":
        raise Failed("ran on %s, not epoll" % backend)
    if row["runtime"] in ("tfpython", "tfpython-plain") and backend not in (None, "io_uring"):
        return "on %s: this machine refuses io_uring" % backend
    return ""


def attempt(row, fn, shown=None):
    """Runs fn() and merges its result into row, or marks row failed."""
    try:
        row.update(fn())
        row["ok"] = True
    except Failed as exc:
        row.update(ok=False, error=str(exc))
    except Exception as exc:  # a bug in a benchmark must not end the run
        row.update(ok=False, error="%s: %s" % (type(exc).__name__, exc))
    status = "ok" if row["ok"] else "FAILED: " + row["error"]
    print("  %-48s %s" % (shown or row["label"], status), flush=True)
    return row


def median_of(runs, key):
    return statistics.median(r[key] for r in runs)


def round_robin(r, rows, start, window, summarize, repeats):
    """Starts every row's server (all pinned to CPU 0, idle while not
    measured), then runs `repeats` rounds of one measurement window per
    server, in turn, so that whatever else loads the machine falls on every
    server alike. A row whose server fails to start, dies, or answers
    nothing fails on its own; the others go on.

    start(row) -> (Server, note); window(row, server, i) -> dict;
    summarize(row, runs) -> dict merged into the row."""

    def fail(row, exc):
        reason = str(exc) if isinstance(exc, Failed) else "%s: %s" % (type(exc).__name__, exc)
        note = row.get("note")
        row.update(ok=False, error=reason + (" (%s)" % note if note else ""))

    with contextlib.ExitStack() as stack:
        servers = {}
        for row in rows:
            try:
                server, row["note"] = start(row)
                servers[row["key"]] = stack.enter_context(server)
                row["patched"] = server.info.get("patched")
            except Exception as exc:  # Failed, or a bug: this row only
                fail(row, exc)
        for i in range(repeats):
            for row in rows:
                if row["key"] not in servers or row.get("ok") is False:
                    continue
                try:
                    row.setdefault("runs", []).append(window(row, servers[row["key"]], i))
                except Exception as exc:
                    fail(row, exc)
    for row in rows:
        if row.get("ok") is not False:
            row.update(summarize(row, row["runs"]), ok=True)
        status = "ok" if row["ok"] else "FAILED: " + row["error"]
        print("  %-48s %s" % (row["label"], status), flush=True)
    return rows
