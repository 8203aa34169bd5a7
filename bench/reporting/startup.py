"""Section 4. Start-up."""
from reporting.format import DASH, by_key, failed, num, ratio, table, value


def startup_section(rows, s, chart):
    ks = by_key(rows)
    head = ["runtime", "command", "mean ms", "σ ms", "÷ python3.11", "peak RSS MiB", "RSS ÷ python3.11"]
    body = []
    for row in rows:
        snippet = "`-c \"%s\"`" % row["code"]
        if not row.get("ok"):
            body.append([row["label"], snippet, failed(row)] + [DASH] * 4)
            continue
        peer = "python3.11/" + row["snippet"]
        body.append([row["label"], snippet, num(row["mean_s"] * 1e3), num(row["stddev_s"] * 1e3),
                     ratio(row["mean_s"], value(ks, peer, "mean_s")), num(row["peak_rss_kib"] / 1024),
                     ratio(row["peak_rss_kib"], value(ks, peer, "peak_rss_kib"))])
    return [
        "## 4. Start-up",
        "",
        "`hyperfine -N --warmup %d --runs %d` pinned to CPU 0 (mean wall time); peak RSS is the "
        "median of %d runs under `/usr/bin/time -f %%M`. The gevent row runs "
        "`from gevent import monkey; monkey.patch_all()` first, what a gevent program pays at start."
        % (s["startup_warmup"], s["startup_runs"], s["rss_runs"]),
        "",
        *table(head, body),
        "",
        "![startup](%s)" % chart,
        "",
    ]
