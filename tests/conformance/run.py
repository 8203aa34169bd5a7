#!/usr/bin/python3.11
"""CPython-conformance runner for tfpython.

Runs CPython 3.11's own regression tests (the ``test`` package, Debian's
``libpython3.11-testsuite``) module by module under up to three interpreters

  python    /usr/bin/python3.11                     (the reference)
  gevent    /usr/bin/python3.11 -m gevent.monkey    (gevent's patch_all)
  tfpython  TFPYTHON                                (the thing under test)

and writes a side-by-side table (results/<name>.md) plus the per-test details
(results/<name>.json). Failing tfpython test ids are checked against
known_failures.txt; see README.md.

    /usr/bin/python3.11 tests/conformance/run.py --tfpython build/default/tfpython --quick
    /usr/bin/python3.11 tests/conformance/run.py --tfpython build/default/tfpython --full
    /usr/bin/python3.11 tests/conformance/run.py --modules test_select,test_poll \\
        --interpreters python,tfpython

Exit status: 0 when every failing tfpython test is listed in known_failures.txt
(or tfpython was not run), 1 otherwise, 2 on a usage or setup error. The last
line printed is always ``N passed, N failed``.
"""
import argparse
import concurrent.futures
import datetime
import fcntl
import json
import os
import platform
import shutil
import sys
import time

from _jobs import Job, _running, _running_lock, _stopping, kill_group, reanalyse_job, run_job
from _known_failures import check_known_failures, load_known_failures
from _paths import DEFAULT_TFPYTHON, KNOWN_FAILURES, PYTHON, RESULTS
from _report import fmt_duration, git_describe, short_status, write_json, write_markdown
from _selection import (ESTIMATES, EXCLUSIVE_MODULES, FULL_MODULES, FULL_TEST_TIMEOUT, FULL_TIMEOUT,
                        INTERPRETERS, LABELS, MODULE_OPTIONS, QUICK_DEADLINE, QUICK_MODULES,
                        QUICK_TEST_TIMEOUT, QUICK_TIMEOUT, previous_durations)

# Where things are: this file is the command line and the run (which jobs, in
# what order, the summary printed at the end). _paths.py: where the files are;
# _selection.py: the modules of each mode, their regrtest options and time
# budgets; _jobs.py: running one module under one interpreter (resumed after a
# hang); _analysis.py: reading a run's events and log into test outcomes;
# _known_failures.py: known_failures.txt and the check against it;
# _report.py: writing results/<name>.md and .json.


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = p.add_mutually_exclusive_group(required=True)
    mode.add_argument("--quick", action="store_true",
                      help="CI subset (tfpython only unless --interpreters is given)")
    mode.add_argument("--full", action="store_true", help="all modules")
    mode.add_argument("--modules", help="comma-separated module names")
    p.add_argument("--tfpython", default=None,
                   help="tfpython binary (default: %s)" % os.path.relpath(DEFAULT_TFPYTHON))
    p.add_argument("--interpreters", default=None,
                   help="comma-separated subset of %s (default: all for --full/--modules, "
                        "tfpython for --quick)" % ",".join(INTERPRETERS))
    p.add_argument("--jobs", type=int, default=2, help="parallel jobs (default 2)")
    p.add_argument("--timeout", type=int, default=None,
                   help="per-module wall budget in seconds, all resumed runs included "
                        "(default %d full, %d quick)" % (FULL_TIMEOUT, QUICK_TIMEOUT))
    p.add_argument("--test-timeout", type=int, default=None,
                   help="watchdog: seconds without any test starting/finishing before "
                        "the run is declared hung (default %d full, %d quick)"
                        % (FULL_TEST_TIMEOUT, QUICK_TEST_TIMEOUT))
    p.add_argument("--deadline", type=int, default=None,
                   help="overall wall limit in seconds: running modules are stopped and "
                        "unstarted ones recorded as not-run (default %d for --quick, "
                        "none otherwise; 0 = none)" % QUICK_DEADLINE)
    p.add_argument("--known-failures", default=KNOWN_FAILURES, metavar="FILE",
                   help="known-failures file (default: known_failures.txt here)")
    p.add_argument("--reanalyse", action="store_true",
                   help="do not run anything: rebuild results/<output>.{md,json} from the "
                        "logs of the previous run with the same output name")
    p.add_argument("--update", action="store_true",
                   help="merge into the existing results/<output>.json: re-run only the "
                        "selected modules/interpreters and keep the other rows")
    p.add_argument("--output", default=None,
                   help="results name (default: latest for --full, quick for --quick, "
                        "modules for --modules)")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.quick:
        mode, modules, name = "quick", list(QUICK_MODULES), "quick"
        interps = ["tfpython"]
        timeout, test_timeout = QUICK_TIMEOUT, QUICK_TEST_TIMEOUT
    elif args.full:
        mode, modules, name = "full", list(FULL_MODULES), "latest"
        interps = list(INTERPRETERS)
        timeout, test_timeout = FULL_TIMEOUT, FULL_TEST_TIMEOUT
    else:
        mode, name = "modules", "modules"
        modules = [m.strip() for m in args.modules.split(",") if m.strip()]
        interps = list(INTERPRETERS)
        timeout, test_timeout = FULL_TIMEOUT, FULL_TEST_TIMEOUT
    if args.interpreters:
        interps = [i.strip() for i in args.interpreters.split(",") if i.strip()]
        bad = [i for i in interps if i not in INTERPRETERS]
        if bad:
            print("unknown interpreter(s): %s" % ", ".join(bad), file=sys.stderr)
            return 2
        interps = [i for i in INTERPRETERS if i in interps]
    timeout = args.timeout or timeout
    test_timeout = min(args.test_timeout or test_timeout, timeout)
    name = args.output or name
    tfpython = os.path.abspath(args.tfpython or DEFAULT_TFPYTHON)
    if "tfpython" in interps and not os.access(tfpython, os.X_OK):
        print("tfpython binary not found or not executable: %s (use --tfpython)" % tfpython,
              file=sys.stderr)
        print("0 passed, 1 failed")
        return 2
    if not os.access(PYTHON, os.X_OK):
        print("%s not found" % PYTHON, file=sys.stderr)
        print("0 passed, 1 failed")
        return 2

    logdir = os.path.join(RESULTS, "logs", name)
    os.makedirs(os.path.join(RESULTS, "logs"), exist_ok=True)
    # Two runs with the same output name would overwrite each other's logs.
    lock = open(os.path.join(RESULTS, "logs", name + ".lock"), "w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        print("another run.py with output %r is in progress; use --output NAME" % name,
              file=sys.stderr)
        print("0 passed, 1 failed")
        return 2
    if not (args.reanalyse or args.update):
        shutil.rmtree(logdir, ignore_errors=True)
    os.makedirs(logdir, exist_ok=True)

    previous = previous_durations()
    jobs = [Job(m, i, timeout, test_timeout, logdir) for m in modules for i in interps]
    jobs.sort(key=lambda j: -previous.get((j.module, j.interp), ESTIMATES.get(j.module, 5)))
    shared = [j for j in jobs if j.module not in EXCLUSIVE_MODULES]
    exclusive = [j for j in jobs if j.module in EXCLUSIVE_MODULES]

    print("conformance %s: %d module(s) x %s, --jobs %d, module budget %ds, "
          "test watchdog %ds, logs in %s"
          % (mode, len(modules), ",".join(interps), args.jobs, timeout, test_timeout,
             os.path.relpath(logdir)), flush=True)
    git_at_start = git_describe()
    start = time.monotonic()
    overall = args.deadline if args.deadline is not None else (
        QUICK_DEADLINE if mode == "quick" else 0)
    if overall:
        for j in jobs:
            j.hard_deadline = start + overall
    done = 0
    total = len(jobs)

    def report(job):
        nonlocal done
        done += 1
        r = job.result
        extra = "" if r["status"] in ("ok",) else " [%s%s]" % (
            r["status"], (": " + r["detail"]) if r["detail"] else "")
        print("[%2d/%d] %-9s %-24s ran %4d  ok %4d  F %3d  E %3d  S %3d  %6.1fs%s" % (
            done, total, job.interp, job.module, r["ran"], r["ok"], r["failed"],
            r["errors"], r["skipped"], r["duration"], extra), flush=True)

    if args.reanalyse:
        try:
            with open(os.path.join(RESULTS, name + ".json"), encoding="utf-8") as f:
                prior = json.load(f)
        except (OSError, ValueError):
            prior = {"meta": {}, "results": []}
        jobs = [j for j in jobs if reanalyse_job(j) is not None]
        shared = exclusive = []
        for j in jobs:
            report(j)
        wall = prior["meta"].get("wall_seconds", 0)
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs))
    try:
        futures = [pool.submit(run_job, j, tfpython) for j in shared]
        for fut in concurrent.futures.as_completed(futures):
            report(fut.result())
        pool.shutdown()
        for j in exclusive:
            report(run_job(j, tfpython))
    except KeyboardInterrupt:
        _stopping.set()
        pool.shutdown(wait=False, cancel_futures=True)
        with _running_lock:
            for pid in list(_running):
                kill_group(pid)
        print("interrupted", file=sys.stderr)
        print("0 passed, 1 failed")
        return 130
    if not args.reanalyse:
        wall = time.monotonic() - start

    results = [j.result for j in jobs]
    by_key = {(r["module"], r["interpreter"]): r for r in results}
    if args.update:
        try:
            with open(os.path.join(RESULTS, name + ".json"), encoding="utf-8") as f:
                old = json.load(f)
        except (OSError, ValueError):
            old = {"meta": {}, "results": []}
        for r in old["results"]:
            by_key.setdefault((r["module"], r["interpreter"]), r)
        old_modules = old["meta"].get("modules", [])
        modules = old_modules + [m for m in modules if m not in old_modules]
        interps = [i for i in INTERPRETERS
                   if i in interps or i in old["meta"].get("interpreters", [])]
        mode = old["meta"].get("mode", mode)
        results = [by_key[k] for k in by_key]
    known = load_known_failures(args.known_failures)
    check = check_known_failures(results, known, set(modules))
    unexpected, known_failing, stale = check
    try:
        import gevent
        gevent_version = gevent.__version__
    except Exception:  # noqa: BLE001
        gevent_version = "?"
    meta = {
        "mode": mode, "modules": modules, "interpreters": interps,
        "generated": datetime.datetime.now().isoformat(timespec="seconds"),
        "wall_seconds": round(wall, 1), "jobs": args.jobs, "timeout": timeout,
        "deadline": overall,
        "test_timeout": test_timeout,
        "tfpython": tfpython, "git": git_at_start, "python": PYTHON,
        "gevent_version": gevent_version,
        "host": "%s %s" % (platform.system(), platform.release()), "cpus": os.cpu_count(),
        "module_options": {m: MODULE_OPTIONS[m] for m in modules if m in MODULE_OPTIONS},
    }
    if args.reanalyse and prior["meta"]:
        for key in ("generated", "git", "tfpython", "jobs", "timeout", "test_timeout",
                    "history"):
            if key in prior["meta"]:
                meta[key] = prior["meta"][key]
        meta["reanalysed"] = datetime.datetime.now().isoformat(timespec="seconds")
    if args.update:
        history = list(old["meta"].get("history", []))
        if old["meta"].get("generated"):
            history = history or ["%s: %s run (wall %s)" % (
                old["meta"]["generated"], old["meta"].get("mode", "?"),
                fmt_duration(old["meta"].get("wall_seconds", 0)))]
        history.append("%s: re-ran %s under %s (wall %s)" % (
            meta["generated"], ",".join(sorted({j.module for j in jobs})),
            ",".join(i for i in INTERPRETERS if i in {j.interp for j in jobs}),
            fmt_duration(wall)))
        meta["history"] = history
    os.makedirs(RESULTS, exist_ok=True)
    ordered = [by_key[(m, i)] for m in modules for i in interps if (m, i) in by_key]
    write_json(os.path.join(RESULTS, name + ".json"), {
        "meta": meta, "results": ordered,
        "known_failures_check": {"unexpected": unexpected, "known_failing": known_failing,
                                 "stale": stale}})
    md_path = os.path.join(RESULTS, name + ".md")
    write_markdown(md_path, meta, modules, interps, by_key, check, known)

    print()
    print("%-24s" % "module" + "".join("%-26s" % LABELS[i] for i in interps))
    for m in modules:
        line = "%-24s" % m
        for i in interps:
            r = by_key.get((m, i))
            if r is None:
                line += "%-26s" % "-"
                continue
            line += "%-26s" % ("%d/%d/%d/%d/%d %s" % (
                r["ran"], r["ok"], r["failed"], r["errors"], r["skipped"],
                "" if r["status"] == "ok" else short_status(r)))
        print(line)
    print("(ran/ok/failed/errors/skipped)  wall %s  ->  %s" % (
        fmt_duration(wall), os.path.relpath(md_path)))

    for r in results:
        if r["status"] == "not-patched":
            print("WARNING: gevent did not patch for %s; its column is not meaningful"
                  % r["module"])
    if "tfpython" in interps:
        if stale:
            print()
            print("WARNING: %d known_failures.txt entr%s now pass%s (stale, remove them):"
                  % (len(stale), "y" if len(stale) == 1 else "ies",
                     "es" if len(stale) == 1 else ""))
            for tid in stale:
                print("  " + tid)
        if unexpected:
            print()
            print("tfpython: %d failing test(s) not in known_failures.txt:" % len(unexpected))
            for tid in unexpected:
                r = next(x for x in results if x["interpreter"] == "tfpython"
                         and tid in x["tests"])
                entry = r["tests"][tid]
                msg = " ".join(entry.get("msg", "").split())
                print("  %s  [%s] %s" % (tid, entry["status"], msg[:160]))
        passed = sum(r["ok"] for r in results if r["interpreter"] == "tfpython")
        print()
        print("tfpython: %d known failure(s) still failing, %d skipped" % (
            len(known_failing), sum(r["skipped"] for r in results
                                    if r["interpreter"] == "tfpython")))
        print("%d passed, %d failed" % (passed, len(unexpected)))
        return 1 if unexpected else 0
    passed = sum(r["ok"] for r in results)
    failed = sum(len(r["failing_ids"]) for r in results)
    print("%d passed, %d failed" % (passed, failed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
