"""The report's opening: every failed run and every unpatched tfpython run."""
from reporting.format import esc


def failures(results):
    """[(benchmark, row)] for every failed run."""
    out = []
    for name, rows in results["benchmarks"].items():
        for group in (rows.values() if isinstance(rows, dict) else [rows]):
            out += [(name, row) for row in group if not row.get("ok")]
    return out


def summary(results):
    """Every failed run and every unpatched tfpython run, so a reader (or a
    CI log) sees them first."""
    out = []
    fails = failures(results)
    if fails:
        out += ["**%d run(s) failed:**" % len(fails), ""]
        out += ["- %s / %s%s: %s" % (name, row["label"], " `-c \"%s\"`" % row["code"] if "code" in row else "",
                                     esc(row.get("error"))) for name, row in fails]
        out.append("")
    else:
        out += ["Every benchmark ran.", ""]
    unpatched = []
    for name, rows in results["benchmarks"].items():
        for group in (rows.values() if isinstance(rows, dict) else [rows]):
            unpatched += ["- %s / %s: %s" % (name, row["label"], row["note"]) for row in group
                          if row.get("ok") and "has not patched" in (row.get("note") or "")]
    if unpatched:
        out += ["**tfpython runs that worked without the patches they are meant to measure** "
                "(OS threads and blocking calls, like plain python3.11; hatched in the charts):", "",
                *unpatched, ""]
    return out
