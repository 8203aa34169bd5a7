"""4. Start-up: hyperfine of one-liners, and their peak RSS."""
import json
import shlex
import statistics

from harness.processes import PY, Failed
from harness.rows import attempt


def startup_rows(r):
    """4. Start-up: hyperfine -N of two one-liners per runtime, plus peak RSS."""
    s = r.s
    snippets = [("pass", "pass"), ("imports", "import ssl, json, http.client")]
    gevent_prefix = "from gevent import monkey; monkey.patch_all()"
    runtimes = [
        ("python3.11", "python3.11", lambda code: [PY, "-c", code]),
        ("gevent", "python3.11 + gevent patch_all()",
         lambda code: [PY, "-c", gevent_prefix if code == "pass" else gevent_prefix + "; " + code]),
        ("tfpython", "tfpython", lambda code: [str(r.tfpython), "-c", code]),
    ]
    rows = []
    for snippet_key, code in snippets:
        for runtime, label, make in runtimes:
            row = {"key": "%s/%s" % (runtime, snippet_key), "snippet": snippet_key, "code": code,
                   "label": label, "runtime": runtime}

            def measure(runtime=runtime, make=make, label=label, snippet_key=snippet_key, code=code):
                r.check_runtime(runtime)
                cmd = make(code)
                tag = "startup %s %s" % (label, snippet_key)
                json_path = r.log_dir / "hyperfine.json"
                try:
                    r.run(tag, ["hyperfine", "-N", "--style", "none", "--warmup", s.startup_warmup,
                                "--runs", s.startup_runs, "--export-json", json_path, shlex.join(cmd)],
                          timeout=120)
                except Failed:
                    r.run(tag + " alone", cmd, 30)  # raises with the command's own stderr
                    raise
                h = json.loads(json_path.read_text())["results"][0]
                rss = [r.run(tag + " rss", cmd, 30, measure_rss=True)[1]["process_rss_kib"]
                       for _ in range(s.rss_runs)]
                return {"command": shlex.join(cmd), "mean_s": h["mean"], "stddev_s": h["stddev"],
                        "median_s": h["median"], "min_s": h["min"], "runs": len(h["times"]),
                        "peak_rss_kib": statistics.median(rss)}

            rows.append(attempt(row, measure, shown="%s -c %r" % (label, code)))
    return rows
