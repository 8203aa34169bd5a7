#!/usr/bin/python3.11
"""Benchmark orchestrator: runs every benchmark, then writes the report.

Called by run.sh, which builds the C programs first:

    /usr/bin/python3.11 bench/run.py [--quick] --tfpython PATH --build-dir DIR
                                     [--only echo,http,tls,https,cores,echoscale,sleepers,conns,startup,idle,latency]

Every workload runs in its own process group with a deadline; a workload
that fails (non-zero exit, timeout, nothing echoed) becomes a
"failed: <reason>" row and the run goes on. Workloads and servers are pinned
to CPU 0, load generators to CPU 1. The results go to
results/raw/<mode>.json (every number, every run) and report.py renders
results/latest.md (full) or results/quick.md (--quick) with the charts.
"""
import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import report
from benchmarks.conns import conns_rows
from benchmarks.cores import cores_rows
from benchmarks.echo import echo_rows, echo_scale_rows
from benchmarks.http import http_rows
from benchmarks.idle import idle_rows
from benchmarks.latency import latency_rows
from benchmarks.sleepers import sleepers_rows
from benchmarks.startup import startup_rows
from benchmarks.tls import tls_rows
from harness.processes import BENCH, PY, ROOT, Runner

# Where things are: this file is the command line and the driver (Settings,
# the machine description, main). harness/ runs the processes (Runner,
# Server, CPU sampling) and the rows (round_robin, attempt, notes);
# benchmarks/<name>.py measures one benchmark of --only (echo.py also the
# echo sweep, http.py also https); report.py and reporting/ write the report.

RESULTS = BENCH / "results"
BENCHMARKS = ("echo", "http", "tls", "https", "cores", "echoscale", "sleepers", "conns", "startup", "idle",
              "latency")


@dataclass
class Settings:
    quick: bool
    echo_seconds: float       # one load generator window
    echo_repeats: int         # windows per server (median reported)
    http_seconds: int         # one wrk run (whole seconds: wrk's unit)
    http_repeats: int
    sleepers: int             # tasks in the sleepers benchmark
    sleepers_repeats: int     # runs per workload (the median run reported)
    os_thread_cap: int        # plain python3.11 threads: at most this many
    startup_warmup: int
    startup_runs: int
    rss_runs: int
    idle_seconds: float
    sleep_samples: int        # time.sleep(0.05) calls
    select_samples: int       # write -> select wake-ups
    conns_repeats: int        # runs per server of the idle-connections benchmark

    @classmethod
    def for_mode(cls, quick):
        if quick:
            return cls(True, 2.0, 1, 2, 1, 10_000, 1, 2_000, 1, 5, 3, 2.0, 20, 200, 1)
        return cls(False, 5.0, 3, 5, 3, 100_000, 3, 10_000, 3, 40, 5, 5.0, 200, 2_000, 3)


def shown_path(path):
    """PATH relative to the repository when it is inside it (for the report)."""
    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return float(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def versions(tfpython):
    def out(cmd):
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
            return (p.stdout or p.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.SubprocessError):
            return "unknown"

    def pkg(name):
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "missing"

    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    commit = out(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"])
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": commit + (" (with uncommitted changes)" if dirty else ""),
        "kernel": platform.release(), "cpu": cpu, "cpus": os.cpu_count(),
        "python": out([PY, "--version"]), "tfpython": out([str(tfpython), "--version"]),
        "tfpython_path": shown_path(tfpython), "loadavg_start": loadavg(),
        "gevent": pkg("gevent"), "uvloop": pkg("uvloop"),
        "wrk": out(["wrk", "--version"]).split(" [")[0], "hyperfine": out(["hyperfine", "--version"]),
        "openssl": out(["openssl", "version"]),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="every benchmark for a few seconds (CI)")
    ap.add_argument("--tfpython", required=True, type=Path)
    ap.add_argument("--build-dir", type=Path, default=ROOT / "build" / "bench")
    ap.add_argument("--strict", action="store_true",
                    help="exit 1 when a run that does not involve tfpython fails (a broken harness)")
    ap.add_argument("--only", default=",".join(BENCHMARKS),
                    help="comma-separated subset of: " + ", ".join(BENCHMARKS))
    ap.add_argument("--merge", action="store_true",
                    help="keep the other benchmarks of the last run of this mode (results/raw) in the report")
    args = ap.parse_args()
    only = [b.strip() for b in args.only.split(",") if b.strip()]
    unknown = set(only) - set(BENCHMARKS)
    if unknown:
        ap.error("unknown benchmark(s): %s" % ", ".join(sorted(unknown)))

    settings = Settings.for_mode(args.quick)
    mode = "quick" if args.quick else "full"
    tfpython = args.tfpython.resolve() if args.tfpython.exists() else args.tfpython
    raw = RESULTS / "raw"
    runner = Runner(settings, tfpython, args.build_dir.resolve(), raw / ("logs-" + mode))

    started = time.monotonic()
    results = {"mode": mode, "settings": settings.__dict__, "meta": versions(tfpython), "benchmarks": {}}
    if set(only) != set(BENCHMARKS):
        results["meta"]["only"] = only
    previous = raw / ("%s.json" % mode)
    if args.merge and previous.exists():
        kept = json.loads(previous.read_text())
        results["benchmarks"] = {k: v for k, v in kept["benchmarks"].items() if k not in only}
        results["meta"]["merged_from"] = kept["meta"]
        results["meta"]["rerun"] = only
    steps = {"echo": echo_rows, "http": http_rows, "tls": tls_rows, "https": lambda r: http_rows(r, tls=True),
             "cores": cores_rows, "echoscale": echo_scale_rows,
             "sleepers": sleepers_rows, "conns": conns_rows,
             "startup": startup_rows, "idle": idle_rows, "latency": latency_rows}
    for name in BENCHMARKS:
        if name not in only:
            continue
        print("== %s" % name, flush=True)
        t0 = time.monotonic()
        results["benchmarks"][name] = steps[name](runner)
        print("   (%.0f s)" % (time.monotonic() - t0), flush=True)
    results["meta"]["duration_s"] = time.monotonic() - started
    results["meta"]["loadavg_end"] = loadavg()

    raw.mkdir(parents=True, exist_ok=True)
    (raw / ("%s.json" % mode)).write_text(json.dumps(results, indent=1))
    if args.quick:
        md, charts = RESULTS / "quick.md", RESULTS / "quick"
    else:
        md, charts = RESULTS / "latest.md", RESULTS
    report.write(results, md, charts)
    print("report: %s (%.0f s)" % (md.relative_to(ROOT), results["meta"]["duration_s"]), flush=True)
    failures = report.failures(results)
    for bench, row in failures:
        print("failed: %s / %s: %s" % (bench, row["label"], row.get("error")), flush=True)
    broken = [row for _, row in failures if row.get("runtime") != "tfpython"]
    if args.strict and broken:
        print("--strict: %d run(s) without tfpython failed" % len(broken), flush=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
