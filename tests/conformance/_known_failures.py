"""known_failures.txt: reading it, and checking tfpython's failing tests
against it."""
import collections
import os
import sys

from _analysis import FAILING, PASSING


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
