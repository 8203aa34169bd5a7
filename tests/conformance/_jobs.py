"""Running one module under one interpreter: the regrtest command, one
attempt under a budget, and resuming the module after a hang or crash."""
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time

from _analysis import analyse_attempt, merge_attempts
from _paths import PYTHON, SHIM
from _selection import MODULE_OPTIONS


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
