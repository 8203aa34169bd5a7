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
import collections
import concurrent.futures
import datetime
import fcntl
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
RESULTS = os.path.join(HERE, "results")
SHIM = os.path.join(HERE, "_regrtest_shim.py")
KNOWN_FAILURES = os.path.join(HERE, "known_failures.txt")
PYTHON = "/usr/bin/python3.11"
DEFAULT_TFPYTHON = os.path.join(REPO, "build", "default", "tfpython")

INTERPRETERS = ("python", "gevent", "tfpython")
LABELS = {"python": "python3.11", "gevent": "gevent", "tfpython": "tfpython"}

FULL_MODULES = [
    "test_socket", "test_ssl", "test_select", "test_selectors", "test_poll",
    "test_time", "test_timeout", "test_threading", "test_thread",
    "test_threading_local", "test_queue", "test_concurrent_futures",
    "test_subprocess", "test_signal", "test_os", "test_socketserver",
    "test_httplib", "test_httpservers", "test_urllib2_localnet", "test_ftplib",
    "test_smtplib", "test_xmlrpc", "test_poplib", "test_imaplib", "test_wsgiref",
    "test_logging", "test_asyncore", "test_email",
]

# The CI subset: modules that take a few seconds each under python3.11 and
# exercise what tfpython makes cooperative (sleep, select/poll/selectors,
# socket timeouts, locks and queues, loopback servers). Chosen from measured
# durations; see README.md. Must stay well under ~5 minutes on 2 cores.
QUICK_MODULES = [
    "test_select", "test_selectors", "test_poll", "test_time", "test_timeout",
    "test_thread", "test_threading_local", "test_queue", "test_socketserver",
    "test_smtplib", "test_poplib", "test_wsgiref", "test_os", "test_httplib",
    "test_httpservers", "test_urllib2_localnet", "test_asyncore", "test_ftplib",
]

# Per-module regrtest options. Only the `network` resource is ever enabled and
# only where every test that then runs stays on loopback:
#  * test_socketserver: the whole module is gated on `network`, but it only
#    serves on localhost / AF_UNIX.
#  * test_timeout: gated on `network` in setUpModule; TCPTimeoutTestCase is
#    ignored because its setUp resolves www.python.org (a real DNS lookup) and
#    testRecvTimeout connects there. The creation tests and the UDP recvfrom
#    timeout stay on loopback.
# Environment exclusions (same for every interpreter):
#  * test_socket ThreadedVSOCKSocketStreamTest: AF_VSOCK to this VM's own CID
#    goes through the hypervisor's virtio-vsock transport, not loopback; on the
#    CI VM it hangs until the module timeout even under python3.11.
# Everything else runs with no resource enabled (-u none), so CPython's own
# "network" tests (test_ssl NetworkedTests, test_httplib test_networked_*,
# test_socket test_idna, test_imaplib Remote*) are skipped.
MODULE_OPTIONS = {
    "test_socketserver": {"resources": ["network"]},
    "test_timeout": {"resources": ["network"], "ignore": ["TCPTimeoutTestCase"]},
    "test_socket": {"ignore": ["ThreadedVSOCKSocketStreamTest"]},
}

# Modules that must not run next to any other job (timing-sensitive under
# load). Empty: CPython's own `-j` runs these modules concurrently too, and each
# process works in its own temporary directory with ephemeral ports.
EXCLUSIVE_MODULES = set()

# Module budget (wall seconds for all attempts of one module) and watchdog
# (seconds without a test starting or finishing). The slowest single test under
# python3.11 here takes ~30 s (test_signal's siginterrupt tests).
FULL_TIMEOUT = 600
FULL_TEST_TIMEOUT = 120
QUICK_TIMEOUT = 180
QUICK_TEST_TIMEOUT = 30
# --quick also has an overall deadline so that CI stays within ~5 minutes even
# when every module hangs: jobs still running then are stopped (timeout) and
# jobs not started are recorded as "not-run" (a failure).
QUICK_DEADLINE = 270

# Rough python3.11 durations in seconds (2-core VM), used to start the longest
# jobs first when no previous results exist.
ESTIMATES = {
    "test_concurrent_futures": 200, "test_subprocess": 120, "test_socket": 90,
    "test_signal": 60, "test_threading": 40, "test_logging": 40,
    "test_ssl": 30, "test_os": 20, "test_httpservers": 15,
    "test_socketserver": 10, "test_asyncore": 10, "test_ftplib": 10,
    "test_queue": 10, "test_urllib2_localnet": 8, "test_xmlrpc": 8,
    "test_imaplib": 8, "test_smtplib": 5, "test_poplib": 5, "test_httplib": 5,
    "test_email": 6,
}

FAILING = ("fail", "error", "xpass", "timeout", "crashed")
PASSING = ("ok", "xfail")
_RANK = {"skip": 0, "ok": 1, "xfail": 1, "xpass": 2, "fail": 3, "error": 4,
         "timeout": 5, "crashed": 5}


# ------------------------------------------------------------------ running --

MAX_ATTEMPTS = 8          # runs of one module (first run + resumes after hangs)
MIN_RESUME_BUDGET = 15    # seconds of module budget left needed to resume


class Job:
    """One module under one interpreter; may take several attempts."""

    def __init__(self, module, interp, timeout, test_timeout, logdir):
        self.module = module
        self.interp = interp
        self.timeout = timeout            # wall budget for the whole module
        self.test_timeout = test_timeout  # watchdog: max seconds without test progress
        self.dir = os.path.join(logdir, interp)
        self.hard_deadline = None         # time.monotonic() limit for the whole run
        self.result = None

    def path(self, attempt, ext):
        suffix = "" if attempt == 1 else ".%d" % attempt
        return os.path.join(self.dir, "%s%s.%s" % (self.module, suffix, ext))


def command(job, tfpython, attempt, ignorefile):
    opts = MODULE_OPTIONS.get(job.module, {})
    regrtest = ["-v", "-u", ",".join(opts["resources"]) if opts.get("resources") else "none"]
    for pattern in opts.get("ignore", ()):
        regrtest += ["-i", pattern]
    if ignorefile:
        regrtest += ["--ignorefile", ignorefile]
    regrtest.append(job.module)
    shim = [SHIM, "--events", job.path(attempt, "events.jsonl"),
            "--test-timeout", str(job.test_timeout), "--"] + regrtest
    if job.interp == "python":
        return [PYTHON] + shim
    if job.interp == "gevent":
        # gevent.monkey's CLI: options, then a script path (or --module NAME);
        # patch_all() runs before the script.
        return [PYTHON, "-m", "gevent.monkey"] + shim
    return [tfpython] + shim


def child_env():
    env = dict(os.environ)
    for name in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONINSPECT",
                 "PYTHONWARNINGS", "PYTHONDEVMODE"):
        env.pop(name, None)
    return env


_running = {}
_running_lock = threading.Lock()
_stopping = threading.Event()


def kill_group(pgid, sig=signal.SIGKILL):
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def run_attempt(job, tfpython, attempt, ignore_ids, budget):
    """Run regrtest once; return the attempt record (also saved as .run.json)."""
    os.makedirs(job.dir, exist_ok=True)
    ignorefile = None
    if ignore_ids:
        ignorefile = job.path(attempt, "ignore")
        with open(ignorefile, "w", encoding="utf-8") as f:
            f.write("\n".join(sorted(ignore_ids)) + "\n")
    log_path = job.path(attempt, "log")
    workdir = tempfile.mkdtemp(prefix="tfconf_%s_%s_" % (job.interp, job.module))
    cmd = command(job, tfpython, attempt, ignorefile)
    start = time.monotonic()
    timed_out = False
    with open(log_path, "wb") as log:
        log.write(("$ %s\n" % " ".join(cmd)).encode())
        log.flush()
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, cwd=workdir,
                                env=child_env(), start_new_session=True)
        with _running_lock:
            _running[proc.pid] = proc
        try:
            returncode = proc.wait(timeout=max(1, budget))
        except subprocess.TimeoutExpired:
            timed_out = True
            # SIGABRT first: regrtest enabled faulthandler, which then dumps
            # every thread's traceback into the log.
            try:
                proc.send_signal(signal.SIGABRT)
                returncode = proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                kill_group(proc.pid)
                returncode = proc.wait()
        finally:
            # Reap whatever the tests left behind in their process group.
            kill_group(proc.pid)
            with _running_lock:
                _running.pop(proc.pid, None)
    shutil.rmtree(workdir, ignore_errors=True)
    record = {"attempt": attempt, "returncode": returncode, "timed_out": timed_out,
              "duration": round(time.monotonic() - start, 1), "command": cmd,
              "ignored": len(ignore_ids)}
    with open(job.path(attempt, "run.json"), "w", encoding="utf-8") as f:
        json.dump(record, f)
    return record


def run_job(job, tfpython):
    """Run a module; after a hang or crash inside a test, resume the module
    with every test that already has an outcome (and the culprit) ignored."""
    for name in os.listdir(job.dir) if os.path.isdir(job.dir) else ():
        if name.startswith(job.module + "."):
            os.unlink(os.path.join(job.dir, name))
    deadline = time.monotonic() + job.timeout
    global_limit = job.hard_deadline is not None and job.hard_deadline < deadline
    if global_limit:
        deadline = job.hard_deadline
    attempts = []
    ignore = set()
    while not _stopping.is_set() and deadline - time.monotonic() > 5:
        n = len(attempts) + 1
        record = run_attempt(job, tfpython, n, ignore, deadline - time.monotonic())
        record["global_deadline"] = global_limit and record["timed_out"]
        attempts.append(analyse_attempt(job, record))
        last = attempts[-1]
        if (last["status"] in ("timeout", "crashed", "interrupted") and last["culprit"]
                and not record["timed_out"] and n < MAX_ATTEMPTS
                and deadline - time.monotonic() > MIN_RESUME_BUDGET):
            for a in attempts:
                ignore.update(re.sub(r"#\d+$", "", t) for t in a["tests"]
                              if "." in t and not t.endswith((".setUpClass", ".tearDownClass",
                                                              ".setUpModule", ".tearDownModule")))
            continue
        break
    if not attempts:
        job.result = not_run_result(job, "interrupted" if _stopping.is_set()
                                    else "--deadline reached before it could start")
        return job
    job.result = merge_attempts(job, attempts)
    return job


def not_run_result(job, why):
    tid = "test.%s" % job.module
    return {"module": job.module, "interpreter": job.interp, "status": "not-run",
            "detail": why, "duration": 0.0, "ran": 0, "ok": 0, "failed": 0, "errors": 1,
            "skipped": 0, "failing_ids": [tid],
            "tests": {tid: {"status": "error", "msg": "not run: " + why}},
            "probe": None, "attempts": [], "log": None}


def reanalyse_job(job):
    """Rebuild a result from the files a previous run left in the log dir."""
    attempts = []
    n = 1
    while os.path.exists(job.path(n, "run.json")):
        with open(job.path(n, "run.json"), encoding="utf-8") as f:
            attempts.append(analyse_attempt(job, json.load(f)))
        n += 1
    if not attempts:
        return None
    job.result = merge_attempts(job, attempts)
    return job


# ----------------------------------------------------------------- analysis --

def read_events(path):
    """Events of the regrtest process itself (forked children are dropped)."""
    events, hello = [], None
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                try:
                    ev = json.loads(line)
                except ValueError:
                    continue  # a torn last line after a kill
                if ev.get("e") == "hello" and hello is None:
                    hello = ev
                if hello is not None and ev.get("pid") == hello["pid"]:
                    events.append(ev)
    except FileNotFoundError:
        pass
    return hello, events


def read_log(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")
    except FileNotFoundError:
        return ""


def analyse_attempt(job, record):
    attempt, returncode, timed_out = record["attempt"], record["returncode"], record["timed_out"]
    hello, events = read_events(job.path(attempt, "events.jsonl"))
    log = read_log(job.path(attempt, "log"))
    tests = collections.OrderedDict()
    ran = 0
    alias = {}  # a test id that runs twice (e.g. doctests) -> "id#2"
    for ev in events:
        kind, tid = ev.get("e"), ev.get("id")
        if kind == "start":
            ran += 1
            key, n = tid, 1
            while key in tests and tests[key]["status"] is not None:
                n += 1
                key = "%s#%d" % (tid, n)
            alias[tid] = key
            tests.setdefault(key, {"status": None})
            tests[key]["_t0"] = ev["t"]
        elif kind in ("ok", "fail", "error", "skip", "xfail", "xpass"):
            tid = alias.get(tid, tid)
            entry = tests.setdefault(tid, {"status": None})
            if entry["status"] is None or _RANK[kind] > _RANK[entry["status"]]:
                entry["status"] = kind
                if ev.get("msg"):
                    entry["msg"] = ev["msg"]
                if ev.get("tb"):
                    entry["traceback"] = ev["tb"]
            if ev.get("sub"):
                entry.setdefault("subtests", []).append(ev["sub"])
            if "_t0" in entry:
                entry["time"] = round(ev["t"] - entry["_t0"], 3)
    m = re.search(r"^Tests result: (.+)$", log, re.M)
    regrtest_result = m.group(1).strip() if m else None
    watchdog = re.search(r"Timeout \((\d+:\d\d:\d\d)\)!\n(Current thread|Thread) 0x", log)

    if hello is None:
        status = "crashed" if returncode != 0 else "no-events"
        detail = "interpreter failed before regrtest started (rc=%s)" % returncode
    elif timed_out and record.get("global_deadline"):
        status, detail = "timeout", "stopped at the run's --deadline"
    elif timed_out:
        status, detail = "timeout", "module budget (%ds) exhausted" % job.timeout
    elif watchdog:
        status, detail = "timeout", "no test progress for %ss (watchdog)" % job.test_timeout
    elif returncode is not None and returncode < 0:
        status = "crashed"
        detail = "killed by %s" % signal.Signals(-returncode).name
    elif regrtest_result is None:
        status, detail = "crashed", "exited rc=%s without a regrtest summary" % returncode
    elif regrtest_result == "SUCCESS":
        skipped = re.search(r"^%s skipped -- (.*)$" % re.escape(job.module), log, re.M)
        status, detail = ("skipped", skipped.group(1)) if skipped else ("ok", "")
    elif regrtest_result == "ENV CHANGED":
        status, detail = "env-changed", "regrtest: test altered the execution environment"
    elif regrtest_result == "INTERRUPTED":
        status = "interrupted"
        detail = "KeyboardInterrupt escaped into regrtest"
    elif regrtest_result == "NO TESTS RAN":
        status, detail = "no-tests", ""
    else:
        status, detail = "failed", regrtest_result

    # The test in progress when the run hung or died carries the blame.
    culprit = None
    for tid, entry in tests.items():
        if entry["status"] is None:
            culprit = tid
    if status in ("timeout", "crashed", "interrupted"):
        blame = "error" if status == "interrupted" else status
        if culprit is not None:
            tests[culprit]["status"] = blame
            tests[culprit]["msg"] = detail
            detail += " in %s" % culprit
        else:
            tests["test.%s" % job.module] = {"status": blame, "msg": detail}
    elif culprit is not None:  # should not happen; keep it visible
        tests[culprit]["status"] = "error"
        tests[culprit]["msg"] = "no outcome recorded"
    if status == "failed" and not any(e["status"] in FAILING for e in tests.values()):
        # e.g. the module failed to import: regrtest says "test_x failed".
        m = re.search(r"^%s failed.*$" % re.escape(job.module), log, re.M)
        tests["test.%s" % job.module] = {
            "status": "error", "msg": m.group(0) if m else "regrtest: %s" % regrtest_result}
    for entry in tests.values():
        entry.pop("_t0", None)
    if (job.interp == "gevent" and hello is not None and
            "gevent" not in hello.get("probe", {}).get("socket.socket", "")):
        status, detail = "not-patched", "gevent did not patch socket.socket"
    return {"attempt": attempt, "status": status, "detail": detail, "culprit": culprit,
            "returncode": returncode, "duration": record["duration"],
            "regrtest_result": regrtest_result, "ran": ran, "tests": tests,
            "probe": (hello or {}).get("probe"), "ignored": record.get("ignored", 0),
            "log": os.path.relpath(job.path(attempt, "log"), HERE)}


_STATUS_RANK = ["ok", "skipped", "no-tests", "env-changed", "failed", "interrupted",
                "timeout", "crashed", "no-events", "not-patched", "not-run"]


def merge_attempts(job, attempts):
    tests = collections.OrderedDict()
    for a in attempts:
        for tid, entry in a["tests"].items():
            old = tests.get(tid)
            if old is None or _RANK.get(entry["status"], 0) >= _RANK.get(old["status"], 0):
                tests[tid] = entry
    status = max((a["status"] for a in attempts), key=_STATUS_RANK.index)
    incidents = [a for a in attempts if a["status"] in ("timeout", "crashed", "interrupted")]
    if incidents:
        detail = "; ".join(a["detail"] for a in incidents)
        if len(attempts) > 1:
            detail += " (%d runs, resumed after each)" % len(attempts)
    else:
        detail = next((a["detail"] for a in attempts if a["status"] == status), "")
    counts = collections.Counter(e["status"] for e in tests.values())
    return {
        "module": job.module,
        "interpreter": job.interp,
        "status": status,
        "detail": detail,
        "duration": round(sum(a["duration"] for a in attempts), 1),
        "ran": sum(a["ran"] for a in attempts),
        "ok": counts["ok"] + counts["xfail"],
        "failed": counts["fail"] + counts["xpass"],
        "errors": counts["error"] + counts["timeout"] + counts["crashed"],
        "skipped": counts["skip"],
        "failing_ids": [t for t, e in tests.items() if e["status"] in FAILING],
        "tests": tests,
        "probe": attempts[0]["probe"],
        "attempts": [{k: a[k] for k in ("attempt", "status", "detail", "returncode",
                                         "duration", "regrtest_result", "ran", "ignored",
                                         "log")} for a in attempts],
        "log": attempts[0]["log"],
    }


# ------------------------------------------------------------ known failures --

def load_known_failures(path):
    known = collections.OrderedDict()
    if not os.path.exists(path):
        return known
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            text = line.strip()
            if not text or text.startswith("#"):
                continue
            tid, _, reason = text.partition("#")
            tid = tid.strip()
            if not reason.strip():
                print("warning: %s:%d: %s has no '# reason'" % (path, lineno, tid),
                      file=sys.stderr)
            known[tid] = reason.strip()
    return known


def check_known_failures(results, known, modules):
    """Return (unexpected, known_failing, stale) for the tfpython results."""
    unexpected, known_failing, stale = [], [], []
    status_of = {}
    for r in results:
        if r["interpreter"] != "tfpython":
            continue
        for tid, entry in r["tests"].items():
            status_of[tid] = entry["status"]
            if entry["status"] in FAILING:
                (known_failing if tid in known else unexpected).append(tid)
    for tid in known:
        module = tid.split(".")[1] if tid.startswith("test.") and "." in tid else None
        if module in modules and status_of.get(tid) in PASSING:
            stale.append(tid)
    return unexpected, known_failing, stale


# ------------------------------------------------------------------ reports --

def git_describe():
    try:
        head = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", REPO, "status", "--porcelain"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return head + ("+dirty" if dirty else "")
    except Exception:  # noqa: BLE001
        return "unknown"


def short_status(r):
    if r is None:
        return "-"
    s = {"ok": "ok", "failed": "FAILED", "timeout": "TIMEOUT", "crashed": "CRASHED",
         "env-changed": "env changed", "skipped": "skipped", "no-tests": "no tests",
         "no-events": "NO EVENTS", "not-patched": "NOT PATCHED", "not-run": "NOT RUN",
         "interrupted": "INTERRUPTED"}.get(r["status"], r["status"])
    return s


def md_escape(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def write_markdown(path, meta, modules, interps, by_key, check, known):
    unexpected, known_failing, stale = check
    lines = ["# tfpython CPython-conformance results (%s)" % meta["mode"], ""]
    lines.append("- generated: %s, wall time %s, --jobs %d" % (
        meta["generated"], fmt_duration(meta["wall_seconds"]), meta["jobs"]))
    lines.append("- tfpython: `%s` (repo %s); python: `%s`; gevent %s" % (
        meta["tfpython"], meta["git"], PYTHON, meta.get("gevent_version", "?")))
    lines.append("- host: %s, %s cores" % (meta["host"], meta["cpus"]))
    opts = []
    for module, o in sorted(meta.get("module_options", {}).items()):
        args = ["-u " + ",".join(o["resources"])] if o.get("resources") else []
        args += ["-i " + pattern for pattern in o.get("ignore", ())]
        opts.append("%s `%s`" % (module, " ".join(args)))
    lines.append("- regrtest: `-v -u none`%s (loopback only; reasons in README.md)"
                 % ((" except " + "; ".join(opts)) if opts else ""))
    lines.append("- module budget %ds (all runs of a module), watchdog %ss without test "
                 "progress; after a hang or crash inside a test the module is resumed "
                 "with the tests already done and the culprit ignored"
                 % (meta["timeout"], meta.get("test_timeout", "?")))
    for entry in meta.get("history", []):
        lines.append("- history: %s" % entry)
    lines.append("")
    lines.append("Columns per interpreter: **ran** = tests started (unittest's "
                 "testsRun), **ok** = passed (incl. expected failures), **F** = "
                 "tests with a failure (subtest failures count once per test), "
                 "**E** = errors (incl. setUpClass/setUpModule errors, hung or "
                 "crashed tests), **S** = skipped.")
    lines.append("")
    head = "| module |"
    sep = "|---|"
    for i in interps:
        label = LABELS[i]
        head += " %s ran | ok | F | E | S |" % label
        sep += "---:|---:|---:|---:|---:|"
    lines += [head, sep]
    totals = {i: collections.Counter() for i in interps}
    for module in modules:
        row = "| %s |" % module
        for i in interps:
            r = by_key.get((module, i))
            if r is None:
                row += " - | - | - | - | - |"
                continue
            cells = []
            for field in ("ran", "ok", "failed", "errors", "skipped"):
                value = r[field]
                totals[i][field] += value
                text = str(value)
                if field in ("failed", "errors") and value:
                    text = "**%s**" % value
                cells.append(text)
            if r["status"] not in ("ok", "skipped", "env-changed", "failed"):
                cells[0] += " (%s)" % short_status(r)
            row += " %s |" % " | ".join(cells)
        lines.append(row)
    row = "| **total** |"
    for i in interps:
        row += " %s |" % " | ".join(
            "**%d**" % totals[i][f] for f in ("ran", "ok", "failed", "errors", "skipped"))
    lines.append(row)
    lines.append("")

    lines.append("## Module status and duration")
    lines.append("")
    lines.append("| module | " + " | ".join(LABELS[i] for i in interps) + " |")
    lines.append("|---|" + "---|" * len(interps))
    for module in modules:
        cells = []
        for i in interps:
            r = by_key.get((module, i))
            if r is None:
                cells.append("-")
                continue
            text = "%s, %ss" % (short_status(r), r["duration"])
            if r["status"] in ("timeout", "crashed", "skipped", "no-events", "not-patched",
                               "interrupted", "not-run"):
                text += " — %s" % md_escape(r["detail"])
            cells.append(text)
        lines.append("| %s | %s |" % (module, " | ".join(cells)))
    lines.append("")

    probes = {}
    for (module, i), r in sorted(by_key.items()):
        if r.get("probe") and i not in probes:
            probes[i] = r["probe"]
    if probes:
        lines.append("## What each interpreter patched")
        lines.append("")
        lines.append("(from the probe run before regrtest starts; an object counts "
                     "as patched when gevent/theframework reports it replaced)")
        lines.append("")
        for i in interps:
            if i in probes:
                patched = probes[i].get("patched") or []
                lines.append("- %s: %s" % (LABELS[i], ", ".join("`%s`" % p for p in patched)
                                           or "nothing"))
        lines.append("")

    if "tfpython" in interps:
        lines.append("## tfpython failing tests")
        lines.append("")
        lines.append("`py` / `gevent`: the same test's outcome under python3.11 / gevent "
                     "(`-` = not run). **new** = not in known_failures.txt.")
        lines.append("")
        any_fail = False
        for module in modules:
            r = by_key.get((module, "tfpython"))
            if not r or not r["failing_ids"]:
                continue
            any_fail = True
            lines.append("### %s (%s)" % (module, short_status(r)))
            lines.append("")
            for tid in r["failing_ids"]:
                entry = r["tests"][tid]
                others = []
                for other in ("python", "gevent"):
                    o = by_key.get((module, other))
                    if o is not None:
                        others.append("%s: %s" % ("py" if other == "python" else other,
                                                  o["tests"].get(tid, {}).get("status", "-")))
                flag = "" if tid in known else " **new**"
                sub = ""
                if entry.get("subtests"):
                    sub = " [subtests: %s]" % md_escape(", ".join(entry["subtests"][:3]))
                lines.append("- `%s` %s%s (%s)%s — %s" % (
                    tid, entry["status"].upper(), flag, ", ".join(others) or "no reference",
                    sub, md_escape(entry.get("msg", ""))[:300]))
            lines.append("")
        if not any_fail:
            lines.append("None.")
            lines.append("")
        lines.append("## Known-failures check (tfpython)")
        lines.append("")
        lines.append("- failing and not in known_failures.txt: %d" % len(unexpected))
        lines.append("- failing and listed: %d" % len(known_failing))
        lines.append("- listed but now passing (stale): %d%s" % (
            len(stale), "".join("\n  - `%s`" % s for s in stale)))
        lines.append("")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines))


def write_json(path, data):
    """Plain JSON, laid out for small diffs: one line per key of a result and
    one line per test."""
    def result(r):
        lines = ["  %s: %s" % (json.dumps(k), json.dumps(v)) for k, v in r.items()
                 if k != "tests"]
        tests = ",\n".join("   %s: %s" % (json.dumps(t), json.dumps(e))
                           for t, e in r.get("tests", {}).items())
        lines.append('  "tests": {%s}' % ("\n" + tests + "\n  " if tests else ""))
        return " {\n" + ",\n".join(lines) + "\n }"
    parts = ["%s: %s" % (json.dumps(k), json.dumps(v, indent=1))
             for k, v in data.items() if k != "results"]
    parts.append('"results": [\n' + ",\n".join(result(r) for r in data["results"]) + "\n]")
    with open(path, "w", encoding="utf-8") as f:
        f.write("{" + ",\n".join(parts) + "}\n")


def fmt_duration(seconds):
    seconds = int(seconds)
    return "%dm%02ds" % (seconds // 60, seconds % 60) if seconds >= 60 else "%ds" % seconds


def previous_durations():
    out = {}
    for name in ("latest.json", "quick.json"):
        try:
            with open(os.path.join(RESULTS, name), encoding="utf-8") as f:
                data = json.load(f)
        except (OSError, ValueError):
            continue
        for r in data.get("results", []):
            out.setdefault((r["module"], r["interpreter"]), r["duration"])
    return out


# --------------------------------------------------------------------- main --

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
