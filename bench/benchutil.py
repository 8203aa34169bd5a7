"""Small helpers shared by the benchmark servers and workloads.

Plain stdlib only. Each server or workload script imports this from its own
folder (``sys.path[0]``), whichever runtime runs it: python3.11,
``python3.11 -m gevent.monkey`` or tfpython.
"""
import json
import resource
import socket
import sys

#: stdlib modules whose patching decides what a benchmark really measures.
WATCHED = ("socket", "select", "selectors", "threading", "time", "ssl")


def runtime_info():
    """Which runtime runs this script, and which modules it has patched and
    accelerated."""
    if "theframework" in sys.modules:
        from theframework import accel, monkey
        patched = [m for m in WATCHED if monkey.is_module_patched(m)]
        accelerated = [m for m in accel.ACCELERATED if accel.is_accelerated(m)]
        import theframework
        return {"runtime": "tfpython", "patched": patched, "accelerated": accelerated,
                "backend": theframework.backend()}
    if "gevent" in sys.modules:
        from gevent import monkey
        patched = [m for m in WATCHED if monkey.is_module_patched(m)]
        return {"runtime": "gevent", "patched": patched}
    return {"runtime": "cpython", "patched": []}


def listen(port=0, backlog=1024):
    """A TCP socket listening on 127.0.0.1:port (0: any free port)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(backlog)
    return sock


def announce(port, **extra):
    """Tell the orchestrator the server is ready: one JSON line on stdout."""
    report(dict(listening=port, **runtime_info(), **extra))


def report(result):
    """A workload's result: one JSON line on stdout."""
    print(json.dumps(result), flush=True)


def cpu_seconds():
    """utime + stime of this whole process (every thread), in seconds."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_rss_kib():
    """VmHWM of this process in KiB (0 where /proc is not there)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def percentiles(values, points=(50, 90, 99)):
    """{"p50": ..., ..., "max": ...} of a list of numbers (nearest rank)."""
    ordered = sorted(values)
    out = {}
    for p in points:
        rank = max(0, min(len(ordered) - 1, int(round(p / 100.0 * len(ordered))) - 1))
        out["p%d" % p] = ordered[rank]
    out["max"] = ordered[-1]
    out["n"] = len(ordered)
    return out


def memory_stats():
    """What this process holds, for the idle-connections benchmark's
    breakdown: RSS, pymalloc blocks, glibc malloc's totals, live objects by
    type (tracked by the cycle collector only), and tfpython's own
    accounting where there is one."""
    import collections
    import gc
    import threading
    out = {"allocated_blocks": sys.getallocatedblocks(), "threads": threading.active_count()}
    try:
        with open("/proc/self/status") as f:
            for line in f:
                key = line.split(":")[0]
                if key in ("VmRSS", "RssAnon", "RssFile", "VmData"):
                    out[key] = int(line.split()[1])
    except OSError:
        pass
    try:
        import ctypes

        class Mallinfo2(ctypes.Structure):
            _fields_ = [(name, ctypes.c_size_t) for name in (
                "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
                "fordblks", "keepcost")]
        libc = ctypes.CDLL(None)
        libc.mallinfo2.restype = Mallinfo2
        info = libc.mallinfo2()
        out["malloc"] = {name: getattr(info, name) for name, _ in Mallinfo2._fields_}
    except (OSError, AttributeError):
        pass
    counts, sizes = collections.Counter(), collections.Counter()
    for obj in gc.get_objects():
        name = type(obj).__qualname__
        counts[name] += 1
        try:
            sizes[name] += sys.getsizeof(obj)
        except Exception:
            pass
    out["gc_types"] = {name: [n, sizes[name]] for name, n in counts.most_common(25)}
    if "theframework" in sys.modules:
        try:
            import _framework_core
            out["framework"] = _framework_core.memory_stats()
        except (ImportError, AttributeError):
            pass
    return out


def stats_on_signal():
    """With BENCH_STATS=PATH in the environment, SIGUSR1 writes
    memory_stats() to PATH as one JSON line (then renames it into place)."""
    import os
    import signal
    path = os.environ.get("BENCH_STATS")
    if not path:
        return

    def handler(signum, frame):
        with open(path + ".tmp", "w") as f:
            f.write(json.dumps(memory_stats()) + "\n")
        os.replace(path + ".tmp", path)

    signal.signal(signal.SIGUSR1, handler)
