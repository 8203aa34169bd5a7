"""5. Idle CPU while blocked (idle.py), and the literal sleep one-liner."""
import shlex

from harness.processes import PY, Failed
from harness.rows import attempt, unpatched_note


def idle_rows(r):
    """5. CPU used while blocked: sleep, select.select, selectors."""
    s = r.s
    d = s.idle_seconds
    rows = []
    phases = [
        ("sleep", "time.sleep(%g)" % d, ()),
        ("select", "select.select() on an idle socket", ("select",)),
        ("selectors", "selectors.DefaultSelector().select()", ("selectors",)),
    ]
    for runtime in ("python3.11", "gevent", "tfpython"):
        for phase, label, needs in phases:
            row = {"key": "%s/%s" % (runtime, phase), "phase": phase, "runtime": runtime,
                   "label": "%s: %s" % (runtime, label)}

            def measure(runtime=runtime, phase=phase, needs=needs):
                r.check_runtime(runtime)
                result = r.run_json("idle %s %s" % (runtime, phase),
                                    r.command(runtime, "idle.py", phase, d), d + 30)
                if result.get("ready"):
                    raise Failed("select reported the idle socket ready")
                result["note"] = unpatched_note(result, needs)
                return result

            rows.append(attempt(row, measure))
        # The literal one-liner: whole process, start-up included.
        code = "import time; time.sleep(%g)" % d
        if runtime == "gevent":
            cmd = [PY, "-c", "from gevent import monkey; monkey.patch_all(); " + code]
        else:
            cmd = r.runtimes[runtime] + ["-c", code]
        row = {"key": "%s/oneliner" % runtime, "phase": "oneliner", "runtime": runtime,
               "label": "%s: -c \"%s\" (whole process)" % (runtime, code), "command": shlex.join(cmd)}

        def whole(runtime=runtime, cmd=cmd):
            r.check_runtime(runtime)
            _, info = r.run("idle %s one-liner" % runtime, cmd, d + 30)
            return {"cpu_ms": info["process_cpu_s"] * 1e3, "wall_s": info["process_wall_s"]}

        rows.append(attempt(row, whole))
    return rows
