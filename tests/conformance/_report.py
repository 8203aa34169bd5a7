"""Writing a run's results: results/<name>.md (the tables) and
results/<name>.json (every test), and the formatting they share with the
summary run.py prints."""
import collections
import json
import subprocess

from _paths import PYTHON, REPO
from _selection import LABELS


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
