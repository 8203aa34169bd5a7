"""6. Wake-up latency: sleep and select timeouts overshoot
(latency_sleep.py), write -> select return (latency_select.py)."""
from harness.processes import Failed
from harness.rows import attempt, unpatched_note


def latency_rows(r):
    """6. Wake-up latency: time.sleep(0.05) and select(timeout=0.05) overshoot; write -> select return."""
    s = r.s
    sleep_rows, select_rows, timeout_rows = [], [], []
    for call, rows in (("sleep", sleep_rows), ("select", timeout_rows)):
        for runtime in ("python3.11", "gevent", "tfpython"):
            row = {"key": runtime, "label": runtime if runtime != "gevent" else "gevent (-m gevent.monkey)",
                   "runtime": runtime}

            def measure(runtime=runtime, call=call):
                r.check_runtime(runtime)
                return r.run_json("latency %s %s" % (call, runtime),
                                  r.command(runtime, "latency_sleep.py", s.sleep_samples, 0.05, call),
                                  s.sleep_samples * 0.2 + 30)

            rows.append(attempt(row, measure))
    variants = [
        ("python3.11", "python3.11 threads", "python3.11", "threads", ()),
        ("gevent", "gevent threads (-m gevent.monkey)", "gevent", "threads", ()),
        ("tf_threads", "tfpython threads", "tfpython", "threads", ("select", "socket", "threading")),
        ("tf_spawn", "tfpython theframework.spawn", "tfpython", "spawn", ("select", "socket")),
    ]
    for key, label, runtime, mode, needs in variants:
        row = {"key": key, "label": label, "runtime": runtime}

        def measure(runtime=runtime, mode=mode, needs=needs, label=label):
            r.check_runtime(runtime)
            try:
                result = r.run_json("latency select %s" % label,
                                    r.command(runtime, "latency_select.py", mode, s.select_samples),
                                    s.select_samples * 0.01 + 30)
            except Failed as exc:
                if runtime == "tfpython" and "select did not return" in str(exc):
                    raise Failed("%s (needs cooperative %s)" % (exc, ", ".join(needs)))
                raise
            result["note"] = unpatched_note(result, needs)
            return result

        select_rows.append(attempt(row, measure))
    return {"sleep": sleep_rows, "select_timeout": timeout_rows, "select": select_rows}
