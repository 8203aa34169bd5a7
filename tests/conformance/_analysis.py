"""Reading what a regrtest run left (the shim's event stream, its log, its
exit status) into per-test outcomes and a module status, and merging the
attempts of one module."""
import collections
import json
import os
import re
import signal

from _paths import HERE


FAILING = ("fail", "error", "xpass", "timeout", "crashed")
PASSING = ("ok", "xfail")
_RANK = {"skip": 0, "ok": 1, "xfail": 1, "xpass": 2, "fail": 3, "error": 4,
         "timeout": 5, "crashed": 5}


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
