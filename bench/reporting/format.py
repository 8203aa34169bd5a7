"""Formatting shared by every section of the report: numbers, ratios,
markdown tables, and looking up a peer's value."""

DASH = "–"


def num(x, unit=""):
    if x is None:
        return DASH
    if abs(x) >= 1000:
        text = "{:,.0f}".format(x)
    elif abs(x) >= 100:
        text = "%.0f" % x
    elif abs(x) >= 10:
        text = "%.1f" % x
    else:
        text = "%.2f" % x
    return text + unit


def ratio(a, b):
    if a is None or b is None or b == 0:
        return DASH
    return "%.2f×" % (a / b)


def esc(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def failed(row):
    return "failed: " + esc(row.get("error", "unknown"))


def table(headers, rows):
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    out += ["| " + " | ".join(esc(c) if not str(c).startswith("failed: ") else str(c) for c in row) + " |"
            for row in rows]
    return out


def by_key(rows):
    return {row["key"]: row for row in rows}


def value(rows, key, field):
    row = rows.get(key)
    return row.get(field) if row and row.get("ok") else None


def spread(row, field):
    """"a–b" of a field's per-window values, when there was more than one."""
    lo_hi = row.get(field + "_range")
    if not lo_hi or lo_hi[0] == lo_hi[1]:
        return ""
    return "%s–%s" % (num(lo_hi[0]), num(lo_hi[1]))
