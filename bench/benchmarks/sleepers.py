"""3. N sleepers: run time and peak RSS of many tasks that sleep."""
from harness.rows import attempt


def sleepers_rows(r):
    """3. N sleepers, each sleeping a random 0-1 s."""
    s = r.s
    n, cap = s.sleepers, min(s.sleepers, s.os_thread_cap)
    timeout = 60 if s.quick else 180
    workloads = [
        # key, label, runtime, script + args, baseline runtime for KiB/task
        ("tf_threads", "tfpython: threading.Thread", "tfpython",
         ("sleepers_threads.py", n, "--max-os-threads", 0), "tfpython"),
        ("gevent_threads", "gevent (-m gevent.monkey): threading.Thread", "gevent",
         ("sleepers_threads.py", n, "--max-os-threads", 0), "gevent"),
        ("py_threads", "python3.11: threading.Thread (OS threads, capped)", "python3.11",
         ("sleepers_threads.py", cap, "--max-os-threads", cap), "python3.11"),
        ("tf_spawn", "tfpython: theframework.spawn + time.sleep", "tfpython",
         ("sleepers_spawn.py", n), "tfpython"),
        ("tf_threads_epoll", "tfpython, epoll engine: threading.Thread", "tfpython-epoll",
         ("sleepers_threads.py", n, "--max-os-threads", 0), "tfpython"),
        ("gevent_spawn", "gevent.spawn + gevent.sleep", "python3.11",
         ("sleepers_gevent.py", n), "gevent"),
        ("asyncio", "asyncio: create_task + asyncio.sleep", "python3.11",
         ("sleepers_asyncio.py", n), "python3.11"),
    ]
    rows = []
    for key, label, runtime, args, baseline in workloads:
        row = {"key": key, "label": label, "runtime": runtime, "baseline": baseline}

        def measure(key=key, runtime=runtime, args=args, label=label):
            r.check_runtime(runtime)
            runs = [r.run_json("sleepers %s run %d" % (label, i), r.command(runtime, *args), timeout,
                               measure_rss=True)
                    for i in range(s.sleepers_repeats)]
            # The median run (by run time), whole: its spawn time and peak
            # RSS belong together (a faster spawn leaves more tasks alive).
            result = dict(sorted(runs, key=lambda x: x["run_s"])[len(runs) // 2])
            notes = []
            if len(runs) > 1:
                notes.append("median of %d runs: run s %.2f-%.2f, peak RSS %.0f-%.0f MiB" % (
                    len(runs), min(x["run_s"] for x in runs), max(x["run_s"] for x in runs),
                    min(x["process_rss_kib"] for x in runs) / 1024, max(x["process_rss_kib"] for x in runs) / 1024))
            if key == "py_threads" and cap < n:
                notes.append("capped at %d OS threads: %d would exceed pid_max / max_map_count" % (cap, n))
            if notes:
                result["note"] = "; ".join(notes)
            return result

        rows.append(attempt(row, measure))
    return rows
