#!/usr/bin/python3.11
"""Renders run.py's results as a markdown report with PNG charts.

run.py calls write() at the end of a run; to re-render saved results:

    /usr/bin/python3.11 bench/report.py bench/results/raw/full.json [OUT.md]

Tables give absolute values and ratios against peers measured in the same
run. A ratio "a ÷ b" is this row's value divided by the peer's, so for
throughput above 1.00× is better and for CPU or latency below 1.00× is.
"""
import json
import sys
from pathlib import Path

from reporting.charts import bars, echo_scale_chart
from reporting.conns import conns_section
from reporting.cores import cores_section
from reporting.echo import echo_scale_section, echo_section
from reporting.engines import engines_section
from reporting.http import http_section, https_section
from reporting.idle import idle_section
from reporting.latency import latency_section
from reporting.sleepers import sleepers_section
from reporting.startup import startup_section
from reporting.summary import failures, summary  # noqa: F401 (run.py calls report.failures)
from reporting.tls import tls_section

# Where things are: write() puts the report together in this order;
# reporting/<benchmark>.py renders that benchmark's section (echo.py also the
# echo sweep, http.py also https), reporting/charts.py draws the PNG charts,
# reporting/format.py formats numbers, ratios and tables, reporting/summary.py
# lists the failed runs. failures() is run.py's too.


def write(results, md_path, chart_dir):
    md_path, chart_dir = Path(md_path), Path(chart_dir)
    chart_dir.mkdir(parents=True, exist_ok=True)
    s, meta, b = results["settings"], results["meta"], results["benchmarks"]

    def chart(name):
        return chart_dir / (name + ".png"), (chart_dir / (name + ".png")).relative_to(md_path.parent)

    quick = results["mode"] == "quick"
    lines = [
        "# tfpython benchmarks%s" % (" (quick mode)" if quick else ""),
        "",
        "Made by `bash bench/run.sh%s --tfpython %s%s` on %s; commit %s; took %.0f s."
        % (" --quick" if quick else "", meta["tfpython_path"],
           " --only " + ",".join(meta.get("rerun") or meta["only"]) if meta.get("only") else "",
           meta["date"], meta["commit"],
           meta.get("duration_s", 0)),
        "Machine: %s, %s CPUs, Linux %s. %s, gevent %s, uvloop %s, %s, %s. tfpython: %s."
        % (meta["cpu"], meta["cpus"], meta["kernel"], meta["python"], meta["gevent"], meta["uvloop"],
           meta["wrk"], meta["hyperfine"], meta["tfpython"]) + (" %s." % meta["openssl"] if meta.get("openssl") else ""),
        "",
    ]
    merged = meta.get("merged_from")
    if merged:
        lines[4:4] = ["", "Merged (`--only %s --merge`): those were measured in this run; the others come "
                      "from the run on %s, commit %s, which took %.0f s." % (
                          ",".join(meta.get("rerun", [])), merged["date"], merged["commit"],
                          merged.get("duration_s", 0))]
    load = meta.get("loadavg_start")
    if load is not None and load > 0.5:
        lines += ["> Other work was running: load average %.2f at the start, %s at the end (2 CPUs). "
                  "Absolute numbers are disturbed; ratios within this run less so."
                  % (load, "%.2f" % meta["loadavg_end"] if meta.get("loadavg_end") is not None else "?"), ""]
    if quick:
        lines += ["> Quick mode: each benchmark ran for a few seconds to prove it still works. "
                  "The numbers are noisy; compare with `latest.md`, not with each other.", ""]
    lines += summary(results)

    if "echo" in b:
        png, rel = chart("echo")
        bars(png, "Echo ping-pong, 50 conns x 64 B", b["echo"],
             [("messages/s (higher is better)", "msgs_per_s", 1),
              ("server CPU µs per message (lower is better)", "cpu_us_per_msg", 1)])
        lines += echo_section(b["echo"], s, rel)
    if "http" in b:
        png, rel = chart("http")
        bars(png, "ThreadingHTTPServer, wrk -t1 -c50", b["http"],
             [("requests/s (higher is better)", "req_per_s", 1),
              ("server CPU µs per request (lower is better)", "cpu_us_per_req", 1)])
        lines += http_section(b["http"], s, rel)
    if "tls" in b:
        png, rel = chart("tls")
        bars(png, "TLS echo ping-pong, 50 conns x 64 B", b["tls"],
             [("messages/s (higher is better)", "msgs_per_s", 1),
              ("server CPU µs per message (lower is better)", "cpu_us_per_msg", 1)])
        lines += tls_section(b["tls"], s, rel)
    if "https" in b:
        png, rel = chart("https")
        bars(png, "HTTPS ThreadingHTTPServer, wrk -t1 -c50", b["https"],
             [("requests/s (higher is better)", "req_per_s", 1),
              ("server CPU µs per request (lower is better)", "cpu_us_per_req", 1)])
        lines += https_section(b["https"], s, rel)
    if "echoscale" in b:
        png, rel = chart("echo_scale")
        echo_scale_chart(png, b["echoscale"])
        lines += echo_scale_section(b["echoscale"], rel)
    if "cores" in b:
        lines += cores_section(b["cores"], s)
    if "sleepers" in b:
        png, rel = chart("sleepers")
        lines += sleepers_section(b["sleepers"], s, b.get("startup"), rel)
        bars(png, "{:,} sleepers (python3.11 threads capped)".format(s["sleepers"]), b["sleepers"],
             [("first spawn to last join, s", "run_s", 1), ("peak RSS, MiB", "process_rss_kib", 1 / 1024)])
    if "conns" in b:
        png, rel = chart("conns")
        bars(png, "Memory per idle connection (5,000 parked in recv)", b["conns"],
             [("KiB per connection (lower is better)", "kib_per_conn", 1)])
        lines += conns_section(b["conns"], s, rel)
    lines += engines_section(b)
    if "startup" in b:
        png, rel = chart("startup")
        rows = [dict(r, label="%s: %s" % (r["label"], r["snippet"])) for r in b["startup"]]
        bars(png, "Start-up (hyperfine -N)", rows,
             [("mean wall time, ms", "mean_s", 1e3), ("peak RSS, MiB", "peak_rss_kib", 1 / 1024)])
        lines += startup_section(b["startup"], s, rel)
    if "idle" in b:
        lines += idle_section(b["idle"], s)
    if "latency" in b:
        png, rel = chart("latency")
        rows = ([dict(r, label="sleep(0.05): " + r["label"]) for r in b["latency"]["sleep"]]
                + [dict(r, label="select(t=0.05): " + r["label"])
                   for r in b["latency"].get("select_timeout", [])]
                + [dict(r, label="select: " + r["label"]) for r in b["latency"]["select"]])
        bars(png, "Wake-up latency (µs)", rows,
             [("p50 µs", "p50", 1), ("p99 µs", "p99", 1), ("max µs", "max", 1)])
        lines += latency_section(b["latency"], s, rel)

    lines += ["Raw numbers of every run: `bench/results/raw/%s.json` (not committed); each "
              "process's stderr: `bench/results/raw/logs-%s/`." % (results["mode"], results["mode"]), ""]
    md_path.write_text("\n".join(lines))


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: report.py RESULTS.json [OUT.md]")
    results = json.loads(Path(sys.argv[1]).read_text())
    here = Path(__file__).resolve().parent / "results"
    default = here / ("quick.md" if results["mode"] == "quick" else "latest.md")
    md = Path(sys.argv[2]) if len(sys.argv) > 2 else default
    write(results, md, md.parent / "quick" if results["mode"] == "quick" else md.parent)


if __name__ == "__main__":
    main()
