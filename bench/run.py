#!/usr/bin/python3.11
"""Benchmark orchestrator: runs every benchmark, then writes the report.

Called by run.sh, which builds the C programs first:

    /usr/bin/python3.11 bench/run.py [--quick] --tfpython PATH --build-dir DIR
                                     [--only echo,http,tls,https,cores,echoscale,sleepers,conns,startup,idle,latency]

Every workload runs in its own process group with a deadline; a workload
that fails (non-zero exit, timeout, nothing echoed) becomes a
"failed: <reason>" row and the run goes on. Workloads and servers are pinned
to CPU 0, load generators to CPU 1. The results go to
results/raw/<mode>.json (every number, every run) and report.py renders
results/latest.md (full) or results/quick.md (--quick) with the charts.
"""
import argparse
import contextlib
import datetime
import json
import os
import platform
import re
import resource
import select
import shlex
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import report

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
PY = "/usr/bin/python3.11"
HOST = "127.0.0.1"
SERVER_CPU, CLIENT_CPU = 0, 1
CLK_TCK = os.sysconf("SC_CLK_TCK")
ECHO_CONNS, ECHO_MSGSIZE = 50, 64
HTTP_CONNS = 50
BENCHMARKS = ("echo", "http", "tls", "https", "cores", "echoscale", "sleepers", "conns", "startup", "idle",
              "latency")
EVERY_CORE = ROOT / "examples" / "every_core" / "server.py"
IDLE_CONNS = 5_000


class Failed(Exception):
    """A run that failed; its message becomes the table's "failed: ..." text."""


@dataclass
class Settings:
    quick: bool
    echo_seconds: float       # one load generator window
    echo_repeats: int         # windows per server (median reported)
    http_seconds: int         # one wrk run (whole seconds: wrk's unit)
    http_repeats: int
    sleepers: int             # tasks in the sleepers benchmark
    sleepers_repeats: int     # runs per workload (the median run reported)
    os_thread_cap: int        # plain python3.11 threads: at most this many
    startup_warmup: int
    startup_runs: int
    rss_runs: int
    idle_seconds: float
    sleep_samples: int        # time.sleep(0.05) calls
    select_samples: int       # write -> select wake-ups
    conns_repeats: int        # runs per server of the idle-connections benchmark

    @classmethod
    def for_mode(cls, quick):
        if quick:
            return cls(True, 2.0, 1, 2, 1, 10_000, 1, 2_000, 1, 5, 3, 2.0, 20, 200, 1)
        return cls(False, 5.0, 3, 5, 3, 100_000, 3, 10_000, 3, 40, 5, 5.0, 200, 2_000, 3)


# ------------------------------------------------------------------ processes

def tail(text, limit=240):
    """The last non-empty line of a process's stderr: the failure reason."""
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    if not lines:
        return ""
    line = lines[-1]
    return line if len(line) <= limit else line[: limit - 3] + "..."


def pinned(cpu, cmd):
    return ["taskset", "-c", str(cpu)] + [str(c) for c in cmd]


def kill_group(proc, grace=3.0):
    """Ends a child started with start_new_session=True and everything in its
    process group: SIGTERM, up to `grace` seconds for the leader to exit,
    then SIGKILL for whatever is left (a wrapper such as /usr/bin/time may
    exit on SIGTERM and leave its child behind, holding our pipes)."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=grace)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass


def proc_cpu_seconds(pid):
    """utime + stime of a whole process (all its threads) from /proc/PID/stat."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # fields[0] is field 3 (state): utime and stime are fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def children_of(pid):
    """The pids whose parent is pid (from /proc/*/stat)."""
    out = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open("/proc/%s/stat" % name) as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out.append(int(name))
            except (OSError, IndexError, ValueError):
                pass
    return out


def machine_busy():
    """(busy, total) jiffies of every CPU, from /proc/stat's first line."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields[:8]) - idle, sum(fields[:8])


def raise_nofile():
    """The open-file soft limit up to the hard one (inherited by every
    server and load generator): what the connection sweep can reach."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        hard = 1 << 20
    if soft != resource.RLIM_INFINITY and soft < hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


class LineReader:
    """Reads lines from a child's unbuffered stdout pipe, with deadlines."""

    def __init__(self, fd):
        self.fd = fd
        self.buf = b""
        self.eof = False

    def readline(self, deadline):
        while b"\n" not in self.buf:
            if self.eof:
                break
            left = deadline - time.monotonic()
            if left <= 0:
                raise Failed("timed out waiting for output")
            ready, _, _ = select.select([self.fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(self.fd, 65536)
            if not chunk:
                self.eof = True
            self.buf += chunk
        if b"\n" in self.buf:
            line, self.buf = self.buf.split(b"\n", 1)
        else:
            line, self.buf = self.buf, b""
        return line.decode(errors="replace") if (line or not self.eof) else None


class Runner:
    """Runs the workloads, records what each printed, logs their stderr."""

    def __init__(self, settings, tfpython, build_dir, log_dir):
        self.s = settings
        self.tfpython = tfpython
        self.build_dir = build_dir
        self.log_dir = log_dir
        self.tls_made = False  # tls_certificate() made this run's certificate
        log_dir.mkdir(parents=True, exist_ok=True)
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith("PYTHON") and k != "TFPYTHON_NO_PATCH"}
        self.env["PYTHONDONTWRITEBYTECODE"] = "1"
        # `python3.11 -m gevent.monkey script.py` does not put the script's
        # folder on sys.path; the scripts import benchutil from there.
        self.env["PYTHONPATH"] = str(BENCH)
        self.env["PYTHONHASHSEED"] = "0"
        self.runtimes = {
            "python3.11": [PY],
            "gevent": [PY, "-m", "gevent.monkey"],
            "tfpython": [str(tfpython)],
            # The same, with the stdlib's pure-Python hot spots left pure
            # (no C stand-ins): how much of a result is the accelerators'.
            "tfpython-plain": ["env", "TFPYTHON_ACCELERATE=0", str(tfpython)],
            # The epoll engine, what tfpython runs on where io_uring is refused.
            "tfpython-epoll": ["env", "TFPYTHON_BACKEND=epoll", str(tfpython)],
        }

    def command(self, runtime, script, *args):
        return self.runtimes[runtime] + [str(BENCH / script)] + [str(a) for a in args]

    def check_runtime(self, runtime):
        if runtime.startswith("tfpython") and not os.access(self.tfpython, os.X_OK):
            raise Failed("tfpython not found or not executable: %s" % self.tfpython)

    def binary(self, name):
        path = self.build_dir / name
        if not os.access(path, os.X_OK):
            raise Failed("%s was not built (see %s.build.log)" % (name, path))
        return path

    def log_path(self, label):
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", label).strip("_")
        return self.log_dir / (safe + ".log")

    def run(self, label, cmd, timeout, cpu=SERVER_CPU, measure_rss=False):
        """Runs cmd pinned to cpu, to completion; returns (stdout, info) where
        info has process_wall_s, process_cpu_s (utime+stime, RUSAGE_CHILDREN) and,
        with measure_rss, process_rss_kib (peak RSS from /usr/bin/time)."""
        full = pinned(cpu, cmd)
        time_file = self.log_dir / "time.out"
        if measure_rss:
            full = ["/usr/bin/time", "-f", "%e %M", "-o", str(time_file)] + full
        log = self.log_path(label)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.monotonic()
        with open(log, "w") as err:
            err.write("$ %s\n" % shlex.join(full))
            err.flush()
            proc = subprocess.Popen(full, stdout=subprocess.PIPE, stderr=err, env=self.env,
                                    start_new_session=True, cwd=ROOT)
            try:
                out, _ = proc.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                kill_group(proc, grace=1.0)
                proc.communicate()
                raise Failed("timed out after %.0f s" % timeout)
            finally:
                kill_group(proc)
        wall = time.monotonic() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        stderr = log.read_text(errors="replace").split("\n", 1)[-1]
        if proc.returncode != 0:
            reason = tail(stderr)
            if proc.returncode < 0:
                reason = "killed by signal %d%s" % (-proc.returncode, ": " + reason if reason else "")
            elif measure_rss and reason.startswith("Command exited with non-zero status"):
                lines = [l for l in stderr.splitlines() if l.strip()]
                reason = tail("\n".join(lines[:-1])) or reason
            raise Failed(reason or "exit status %d" % proc.returncode)
        info = {"process_wall_s": wall,
                "process_cpu_s": (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)}
        if measure_rss:
            elapsed, rss = time_file.read_text().split()[-2:]
            info.update(process_wall_s=float(elapsed), process_rss_kib=int(rss))
        return out.decode(errors="replace"), info

    def run_json(self, label, cmd, timeout, **kw):
        """run(), then the last JSON line the workload printed."""
        out, info = self.run(label, cmd, timeout, **kw)
        for line in reversed(out.splitlines()):
            if line.startswith("{"):
                result = json.loads(line)
                result.update(info)
                return result
        raise Failed("printed no result")


class Server:
    """A server pinned to CPU 0, alive for a `with` block. It must print its
    port first: a JSON line {"listening": PORT, ...} or "listening PORT"."""

    def __init__(self, runner, label, cmd, cpus=SERVER_CPU, tree=False):
        self.runner = runner
        self.label = label
        self.cmd = pinned(cpus, cmd)
        self.tree = tree  # CPU of the process and its children (workers)
        self.info = {}

    def __enter__(self):
        self.log = self.runner.log_path(self.label)
        self.err = open(self.log, "w")
        self.err.write("$ %s\n" % shlex.join(self.cmd))
        self.err.flush()
        self.proc = subprocess.Popen(self.cmd, stdout=subprocess.PIPE, stderr=self.err,
                                     env=self.runner.env, start_new_session=True, bufsize=0, cwd=ROOT)
        try:
            line = LineReader(self.proc.stdout.fileno()).readline(time.monotonic() + 20)
        except Failed:
            line = None
        if not line:
            kill_group(self.proc)
            reason = self.stderr_tail() or "no output"
            self.__exit__(None, None, None)
            raise Failed("server did not start: %s" % reason)
        try:
            if line.startswith("{"):
                self.info = json.loads(line)
                self.port = int(self.info["listening"])
            else:
                self.port = int(line.split()[1])
        except (ValueError, KeyError, IndexError):
            self.__exit__(None, None, None)
            raise Failed("server printed %r instead of its port" % line[:80])
        return self

    def stderr_tail(self):
        self.err.flush()
        return tail(self.log.read_text(errors="replace").split("\n", 1)[-1])

    def check_alive(self):
        if self.proc.poll() is not None:
            raise Failed("server exited with status %s: %s" % (self.proc.returncode, self.stderr_tail()))

    def cpu_seconds(self):
        self.check_alive()
        if self.tree:
            return sum(self.tree_cpu().values())
        return proc_cpu_seconds(self.proc.pid)

    def tree_cpu(self):
        """{pid: CPU seconds} of the server and its children (its workers)."""
        out = {self.proc.pid: proc_cpu_seconds(self.proc.pid)}
        for pid in children_of(self.proc.pid):
            with contextlib.suppress(OSError):
                out[pid] = proc_cpu_seconds(pid)
        return out

    def __exit__(self, *exc):
        kill_group(self.proc)
        self.proc.stdout.close()
        self.err.close()
        return False


# ------------------------------------------------------------ common helpers

def unpatched_note(info, needs):
    """For tfpython rows: which of the modules this workload relies on are not
    patched yet (so it measured OS threads / blocking calls)."""
    if info.get("runtime") != "tfpython":
        return ""
    missing = [m for m in needs if m not in info.get("patched", [])]
    if not missing:
        return ""
    return "tfpython has not patched %s yet" % ", ".join(missing)


def engine_note(row, info):
    """tfpython rows name their engine: the epoll rows must run on epoll, the
    others say so when this machine refused io_uring."""
    backend = info.get("backend")
    if row["runtime"] == "tfpython-epoll" and backend != "epoll":
        raise Failed("ran on %s, not epoll" % backend)
    if row["runtime"] in ("tfpython", "tfpython-plain") and backend not in (None, "io_uring"):
        return "on %s: this machine refuses io_uring" % backend
    return ""


def attempt(row, fn, shown=None):
    """Runs fn() and merges its result into row, or marks row failed."""
    try:
        row.update(fn())
        row["ok"] = True
    except Failed as exc:
        row.update(ok=False, error=str(exc))
    except Exception as exc:  # a bug in a benchmark must not end the run
        row.update(ok=False, error="%s: %s" % (type(exc).__name__, exc))
    status = "ok" if row["ok"] else "FAILED: " + row["error"]
    print("  %-48s %s" % (shown or row["label"], status), flush=True)
    return row


def median_of(runs, key):
    return statistics.median(r[key] for r in runs)


# --------------------------------------------------------------- benchmarks

def round_robin(r, rows, start, window, summarize, repeats):
    """Starts every row's server (all pinned to CPU 0, idle while not
    measured), then runs `repeats` rounds of one measurement window per
    server, in turn, so that whatever else loads the machine falls on every
    server alike. A row whose server fails to start, dies, or answers
    nothing fails on its own; the others go on.

    start(row) -> (Server, note); window(row, server, i) -> dict;
    summarize(row, runs) -> dict merged into the row."""

    def fail(row, exc):
        reason = str(exc) if isinstance(exc, Failed) else "%s: %s" % (type(exc).__name__, exc)
        note = row.get("note")
        row.update(ok=False, error=reason + (" (%s)" % note if note else ""))

    with contextlib.ExitStack() as stack:
        servers = {}
        for row in rows:
            try:
                server, row["note"] = start(row)
                servers[row["key"]] = stack.enter_context(server)
                row["patched"] = server.info.get("patched")
            except Exception as exc:  # Failed, or a bug: this row only
                fail(row, exc)
        for i in range(repeats):
            for row in rows:
                if row["key"] not in servers or row.get("ok") is False:
                    continue
                try:
                    row.setdefault("runs", []).append(window(row, servers[row["key"]], i))
                except Exception as exc:
                    fail(row, exc)
    for row in rows:
        if row.get("ok") is not False:
            row.update(summarize(row, row["runs"]), ok=True)
        status = "ok" if row["ok"] else "FAILED: " + row["error"]
        print("  %-48s %s" % (row["label"], status), flush=True)
    return rows


def start_echo_server(r, row, what):
    """The echo server of a row: the C one (script None) or a Python one
    under the row's runtime; the load generator is built first."""
    r.binary("loadgen")
    if row["script"] is None:
        cmd = [r.binary("echo_uring")]
    else:
        r.check_runtime(row["runtime"])
        cmd = r.command(row["runtime"], *row["script"])
    return Server(r, "%s %s" % (what, row["label"]), cmd)


def echo_rows(r):
    """1. Echo ping-pong: 50 connections x 64-byte messages, one in flight each."""
    s = r.s
    rows = [
        dict(key="c", label="C io_uring (echo_uring.c)", runtime="C", script=None, needs=()),
        dict(key="threads", label="python3.11 threads", runtime="python3.11",
             script=("echo_threads.py",), needs=()),
        dict(key="gevent", label="gevent threads (-m gevent.monkey)", runtime="gevent",
             script=("echo_threads.py",), needs=()),
        dict(key="tf_threads", label="tfpython threads", runtime="tfpython",
             script=("echo_threads.py",), needs=("socket", "threading")),
        dict(key="tf_spawn", label="tfpython theframework.spawn", runtime="tfpython",
             script=("echo_spawn.py",), needs=("socket",)),
        dict(key="tf_threads_epoll", label="tfpython threads, epoll engine", runtime="tfpython-epoll",
             script=("echo_threads.py",), needs=("socket", "threading")),
        dict(key="tf_spawn_epoll", label="tfpython theframework.spawn, epoll engine", runtime="tfpython-epoll",
             script=("echo_spawn.py",), needs=("socket",)),
        dict(key="asyncio", label="asyncio streams", runtime="python3.11",
             script=("echo_asyncio.py",), needs=()),
        dict(key="uvloop", label="asyncio streams + uvloop", runtime="python3.11",
             script=("echo_asyncio.py", "--uvloop"), needs=()),
    ]

    def start(row):
        return start_echo_server(r, row, "echo"), ""

    def window(row, server, i):
        if i == 0:
            row["note"] = "; ".join(filter(None, [unpatched_note(server.info, row["needs"]),
                                                  engine_note(row, server.info)]))
        return echo_window(r, server, r.binary("loadgen"), "echo %s run %d" % (row["label"], i))

    def summarize(row, runs):
        return {"msgs_per_s": median_of(runs, "msgs_per_s"),
                "cpu_us_per_msg": median_of(runs, "cpu_us_per_msg")}

    round_robin(r, rows, start, window, summarize, s.echo_repeats)
    for row in rows:
        del row["script"], row["needs"]
    return rows


def echo_window(r, server, loadgen, label, tls=False, conns=ECHO_CONNS, seconds=None):
    """One load generator run; the server's CPU is read on its "measuring"
    and "done" lines, so only the measurement window counts."""
    s = r.s
    cmd = pinned(CLIENT_CPU, [loadgen] + ["--tls"] * tls
                 + [HOST, server.port, conns, ECHO_MSGSIZE, seconds or s.echo_seconds])
    log = r.log_path(label)
    with open(log, "w") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, bufsize=0,
                                start_new_session=True, env=r.env)
        try:
            reader = LineReader(proc.stdout.fileno())
            deadline = time.monotonic() + (seconds or s.echo_seconds) + 15 + conns / 500
            cpu0 = cpu1 = None
            done = None
            while True:
                line = reader.readline(deadline)
                if line is None:
                    break
                if line == "measuring":
                    cpu0 = server.cpu_seconds()
                elif line.startswith("done "):
                    cpu1 = server.cpu_seconds()
                    done = dict(kv.split("=") for kv in line.split()[1:])
            proc.wait(timeout=max(1.0, deadline - time.monotonic()))
        finally:
            kill_group(proc)
            proc.stdout.close()
    server.check_alive()
    messages = int(done["messages"]) if done else 0
    if proc.returncode != 0 or not messages or cpu0 is None:
        reason = tail(log.read_text(errors="replace")) or "load generator exit status %s" % proc.returncode
        raise Failed(reason.removeprefix("loadgen: "))
    cpu = cpu1 - cpu0
    return {"messages": messages, "seconds": float(done["seconds"]),
            "msgs_per_s": float(done["rate"]), "server_cpu_s": cpu,
            "cpu_us_per_msg": cpu / messages * 1e6, "errors": int(done["errors"])}


def tls_certificate(r):
    """A self-signed P-256 certificate for 127.0.0.1, made once per run by
    openssl(1) into the build directory: (certfile, keyfile)."""
    cert, key = r.build_dir / "tls-cert.pem", r.build_dir / "tls-key.pem"
    if not r.tls_made:
        r.run("tls certificate", ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                                  "ec_paramgen_curve:prime256v1", "-nodes", "-days", "30",
                                  "-subj", "/CN=localhost", "-keyout", key, "-out", cert], 30)
        r.tls_made = True
    return cert, key


def tls_rows(r):
    """TLS echo ping-pong: echo 1 over TLS (stdlib ssl, a thread per
    connection, blocking sockets), `loadgen --tls`."""
    s = r.s
    rows = [
        dict(key="threads", label="python3.11 threads", runtime="python3.11", needs=()),
        dict(key="gevent", label="gevent threads (-m gevent.monkey)", runtime="gevent", needs=()),
        dict(key="tf_threads", label="tfpython threads", runtime="tfpython",
             needs=("socket", "threading", "ssl")),
        dict(key="tf_threads_epoll", label="tfpython threads, epoll engine", runtime="tfpython-epoll",
             needs=("socket", "threading", "ssl")),
    ]

    def start(row):
        r.binary("loadgen")
        r.check_runtime(row["runtime"])
        cert, key = tls_certificate(r)
        return Server(r, "tls " + row["label"], r.command(row["runtime"], "echo_tls_threads.py", cert, key)), ""

    def window(row, server, i):
        if i == 0:
            row["note"] = "; ".join(filter(None, [unpatched_note(server.info, row["needs"]),
                                                  engine_note(row, server.info)]))
        return echo_window(r, server, r.binary("loadgen"), "tls %s run %d" % (row["label"], i), tls=True)

    def summarize(row, runs):
        return {"msgs_per_s": median_of(runs, "msgs_per_s"),
                "cpu_us_per_msg": median_of(runs, "cpu_us_per_msg"),
                "cpu_us_per_msg_range": [min(x["cpu_us_per_msg"] for x in runs),
                                         max(x["cpu_us_per_msg"] for x in runs)]}

    round_robin(r, rows, start, window, summarize, s.echo_repeats)
    for row in rows:
        del row["needs"]
    return rows


WRK_LATENCY = re.compile(r"^\s*(50|99)%\s+([\d.]+)(us|ms|s)\s*$", re.M)


def parse_wrk(out):
    m = re.search(r"(\d+) requests in ([\d.]+)(\w+)", out)
    rps = re.search(r"Requests/sec:\s*([\d.]+)", out)
    if not m or not rps:
        raise Failed("could not read wrk's output")
    result = {"requests": int(m.group(1)), "req_per_s": float(rps.group(1))}
    scale = {"us": 1.0, "ms": 1e3, "s": 1e6}
    for pct, value, unit in WRK_LATENCY.findall(out):
        result["p%s_us" % pct] = float(value) * scale[unit]
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    result["socket_errors"] = sum(int(x) for x in errors.groups()) if errors else 0
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    result["non_2xx"] = int(non2xx.group(1)) if non2xx else 0
    return result


def http_rows(r, tls=False):
    """2. HTTP: ThreadingHTTPServer (HTTP/1.1 keep-alive) under wrk -t1 -c50;
    with tls, the same over HTTPS (the HTTPS benchmark)."""
    s = r.s
    rows = [
        dict(key="threads", label="python3.11 ThreadingHTTPServer", runtime="python3.11"),
        dict(key="gevent", label="gevent (-m gevent.monkey)", runtime="gevent"),
        dict(key="tfpython", label="tfpython", runtime="tfpython"),
        dict(key="tfpython_plain", label="tfpython, TFPYTHON_ACCELERATE=0", runtime="tfpython-plain"),
        dict(key="tfpython_epoll", label="tfpython, epoll engine", runtime="tfpython-epoll"),
    ]
    if tls:  # the accelerators' share is HTTP's own, measured by benchmark 2
        rows = [row for row in rows if row["key"] != "tfpython_plain"]
    wrk = ["wrk", "-t1", "-c%d" % HTTP_CONNS, "--timeout", "2s", "--latency"]
    name = "https" if tls else "http"
    needs = ("socket", "threading", "selectors") + (("ssl",) if tls else ())

    def start(row):
        r.check_runtime(row["runtime"])
        args = ["--tls", *tls_certificate(r)] if tls else []
        return Server(r, "%s %s" % (name, row["label"]), r.command(row["runtime"], "http_server.py", *args)), ""

    def window(row, server, i):
        if i == 0:
            row["note"] = "; ".join(filter(None, [unpatched_note(server.info, needs),
                                                  engine_note(row, server.info)]))
            if row["runtime"].startswith("tfpython"):
                wanted = [] if row["runtime"] == "tfpython-plain" else ["email.parser", "email.utils"]
                if server.info.get("accelerated") != wanted:
                    raise Failed("C stand-ins in use: %s, expected %s" % (server.info.get("accelerated"), wanted))
        url = "%s://%s:%d/" % (name, HOST, server.port)
        r.run("%s %s warm-up %d" % (name, row["label"], i), wrk + ["-d1s", url], 20, cpu=CLIENT_CPU)
        cpu0 = server.cpu_seconds()
        out, _ = r.run("%s %s run %d" % (name, row["label"], i), wrk + ["-d%ds" % s.http_seconds, url],
                       s.http_seconds + 20, cpu=CLIENT_CPU)
        cpu = server.cpu_seconds() - cpu0
        result = parse_wrk(out)
        if result["requests"] == 0:
            raise Failed("no request answered")
        result.update(server_cpu_s=cpu, cpu_us_per_req=cpu / result["requests"] * 1e6,
                      body_bytes=server.info.get("body_bytes"))
        return result

    def summarize(row, runs):
        errors = sum(x["socket_errors"] + x["non_2xx"] for x in runs)
        if errors:
            row["note"] = "; ".join(filter(None, [row.get("note"),
                                                  "%d socket errors / non-2xx answers" % errors]))
        return {"req_per_s": median_of(runs, "req_per_s"), "body_bytes": runs[0]["body_bytes"],
                "cpu_us_per_req": median_of(runs, "cpu_us_per_req"),
                "cpu_us_per_req_range": [min(x["cpu_us_per_req"] for x in runs),
                                         max(x["cpu_us_per_req"] for x in runs)],
                "p50_us": median_of(runs, "p50_us") if all("p50_us" in x for x in runs) else None,
                "p99_us": median_of(runs, "p99_us") if all("p99_us" in x for x in runs) else None}

    return round_robin(r, rows, start, window, summarize, s.http_repeats)


def cores_rows(r):
    """Every core: examples/every_core/server.py (SO_REUSEPORT workers, each a
    ThreadingHTTPServer) with 1 and 2 workers under wrk -t1 -c50."""
    s = r.s
    peers = [("python3.11", "python3.11", "reuseport"), ("tfpython", "tfpython", "reuseport"),
             # gevent's workers must be forked to stay patched
             ("gevent", "gevent (-m gevent.monkey), --mode fork", "fork")]
    if s.quick:  # CI: that tfpython's workers still serve, in a few seconds
        peers = peers[1:2]
    rows = [dict(key="%s/%d" % (runtime, workers), label="%s, %d worker%s" % (label, workers, "s" * (workers > 1)),
                 runtime=runtime, workers=workers, mode=mode)
            for runtime, label, mode in peers for workers in (1, 2)]
    wrk = ["wrk", "-t1", "-c%d" % HTTP_CONNS, "--timeout", "2s", "--latency"]

    def cpus(row):
        # 1 worker: server on CPU 0, wrk on CPU 1 (as benchmark 2). 2 workers:
        # the workers need both CPUs, so wrk shares them.
        return "%d" % SERVER_CPU if row["workers"] == 1 else "%d,%d" % (SERVER_CPU, CLIENT_CPU)

    def start(row):
        r.check_runtime(row["runtime"])
        cmd = r.runtimes[row["runtime"]] + [str(EVERY_CORE), "--workers", row["workers"], "--port", 0,
                                            "--mode", row["mode"]]
        return Server(r, "cores " + row["label"], [str(c) for c in cmd], cpus=cpus(row), tree=True), ""

    def window(row, server, i):
        url = "http://%s:%d/" % (HOST, server.port)
        wrk_cpu = CLIENT_CPU if row["workers"] == 1 else cpus(row)
        r.run("cores %s warm-up %d" % (row["label"], i), wrk + ["-d1s", url], 20, cpu=wrk_cpu)
        before, busy0 = server.tree_cpu(), machine_busy()
        out, _ = r.run("cores %s run %d" % (row["label"], i), wrk + ["-d%ds" % s.http_seconds, url],
                       s.http_seconds + 20, cpu=wrk_cpu)
        after, busy1 = server.tree_cpu(), machine_busy()
        server.check_alive()
        result = parse_wrk(out)
        if result["requests"] == 0:
            raise Failed("no request answered")
        per_pid = {pid: after[pid] - before.get(pid, 0.0) for pid in after}
        cpu = sum(per_pid.values())
        workers = sorted((v for pid, v in per_pid.items() if pid != server.proc.pid), reverse=True)
        if len(workers) != row["workers"]:
            raise Failed("%d worker processes, expected %d" % (len(workers), row["workers"]))
        result.update(server_cpu_s=cpu, cpu_us_per_req=cpu / result["requests"] * 1e6,
                      worker_cpu_s=workers,
                      machine_busy=(busy1[0] - busy0[0]) / max(1, busy1[1] - busy0[1]))
        return result

    def summarize(row, runs):
        errors = sum(x["socket_errors"] + x["non_2xx"] for x in runs)
        notes = [row.get("note")]
        if errors:
            notes.append("%d socket errors / non-2xx answers" % errors)
        mid = sorted(runs, key=lambda x: x["req_per_s"])[len(runs) // 2]
        return {"req_per_s": mid["req_per_s"], "cpu_us_per_req": median_of(runs, "cpu_us_per_req"),
                "req_per_s_range": [min(x["req_per_s"] for x in runs), max(x["req_per_s"] for x in runs)],
                "cpu_us_per_req_range": [min(x["cpu_us_per_req"] for x in runs),
                                         max(x["cpu_us_per_req"] for x in runs)],
                "worker_cpu_s": mid["worker_cpu_s"], "machine_busy": median_of(runs, "machine_busy"),
                "p50_us": median_of(runs, "p50_us") if all("p50_us" in x for x in runs) else None,
                "p99_us": median_of(runs, "p99_us") if all("p99_us" in x for x in runs) else None,
                "note": "; ".join(filter(None, notes))}

    round_robin(r, rows, start, window, summarize, s.http_repeats)
    for row in rows:
        row.pop("mode", None)
    return rows


#: The echo sweep's peers: key, label, runtime, server (None: echo_uring), most connections.
ECHO_SCALE_PEERS = [
    ("c", "C io_uring", "C", None, None),
    ("tf_threads", "tfpython threads", "tfpython", ("echo_threads.py",), None),
    ("tf_spawn", "tfpython theframework.spawn", "tfpython", ("echo_spawn.py",), None),
    ("gevent", "gevent threads", "gevent", ("echo_threads.py",), None),
    ("threads", "python3.11 threads (OS threads, ≤ 1,000)", "python3.11", ("echo_threads.py",), 1000),
    ("uvloop", "asyncio streams + uvloop", "python3.11", ("echo_asyncio.py", "--uvloop"), None),
]


def echo_scale_rows(r):
    """Benchmark 1 swept over connection counts (50 to 10,000): the server's
    CPU per message as connections grow. Each count starts fresh servers,
    measured round-robin; a count above what the open-file limit allows is
    left out (the report says so)."""
    s = r.s
    counts = (1000,) if s.quick else (50, 1000, 5000, 10000)
    quick_peers = ("c", "tf_threads", "tf_spawn", "gevent")  # CI: a few seconds
    seconds, repeats = (1.0, 1) if s.quick else (3.0, 2)
    limit = raise_nofile()
    rows = []
    for n in counts:
        level = []
        for key, label, runtime, script, most in ECHO_SCALE_PEERS:
            if (most is not None and n > most) or (s.quick and key not in quick_peers):
                continue
            if n + 64 > limit:
                print("  echo sweep: %d connections left out: open-file limit %d" % (n, limit), flush=True)
                break
            level.append(dict(key="%s/%d" % (key, n), peer=key, label="%s, %s conns" % (label, "{:,}".format(n)),
                              runtime=runtime, conns=n, script=script))
        if not level:
            continue

        def start(row):
            return start_echo_server(r, row, "echoscale"), ""

        def window(row, server, i):
            return echo_window(r, server, r.binary("loadgen"), "echoscale %s run %d" % (row["label"], i),
                               conns=row["conns"], seconds=seconds)

        def summarize(row, runs):
            return {"msgs_per_s": median_of(runs, "msgs_per_s"),
                    "cpu_us_per_msg": median_of(runs, "cpu_us_per_msg"),
                    "cpu_us_per_msg_range": [min(x["cpu_us_per_msg"] for x in runs),
                                             max(x["cpu_us_per_msg"] for x in runs)]}

        round_robin(r, level, start, window, summarize, repeats)
        for row in level:
            del row["script"]
            row.update(nofile=limit, window_s=seconds, windows=repeats)
        rows += level
    return rows


def sleepers_rows(r):
    """3. N sleepers, each sleeping a random 0-1 s."""
    s = r.s
    n, cap = s.sleepers, min(s.sleepers, s.os_thread_cap)
    timeout = 60 if s.quick else 180
    workloads = [
        # key, label, runtime, script + args, baseline runtime for KiB/task
        ("tf_threads", "tfpython: threading.Thread", "tfpython",
         ("sleepers_threads.py", n, "--max-os-threads", 0), "tfpython"),
        ("gevent_threads", "gevent (-m gevent.monkey): threading.Thread", "gevent",
         ("sleepers_threads.py", n, "--max-os-threads", 0), "gevent"),
        ("py_threads", "python3.11: threading.Thread (OS threads, capped)", "python3.11",
         ("sleepers_threads.py", cap, "--max-os-threads", cap), "python3.11"),
        ("tf_spawn", "tfpython: theframework.spawn + time.sleep", "tfpython",
         ("sleepers_spawn.py", n), "tfpython"),
        ("tf_threads_epoll", "tfpython, epoll engine: threading.Thread", "tfpython-epoll",
         ("sleepers_threads.py", n, "--max-os-threads", 0), "tfpython"),
        ("gevent_spawn", "gevent.spawn + gevent.sleep", "python3.11",
         ("sleepers_gevent.py", n), "gevent"),
        ("asyncio", "asyncio: create_task + asyncio.sleep", "python3.11",
         ("sleepers_asyncio.py", n), "python3.11"),
    ]
    rows = []
    for key, label, runtime, args, baseline in workloads:
        row = {"key": key, "label": label, "runtime": runtime, "baseline": baseline}

        def measure(key=key, runtime=runtime, args=args, label=label):
            r.check_runtime(runtime)
            runs = [r.run_json("sleepers %s run %d" % (label, i), r.command(runtime, *args), timeout,
                               measure_rss=True)
                    for i in range(s.sleepers_repeats)]
            # The median run (by run time), whole: its spawn time and peak
            # RSS belong together (a faster spawn leaves more tasks alive).
            result = dict(sorted(runs, key=lambda x: x["run_s"])[len(runs) // 2])
            notes = []
            if len(runs) > 1:
                notes.append("median of %d runs: run s %.2f-%.2f, peak RSS %.0f-%.0f MiB" % (
                    len(runs), min(x["run_s"] for x in runs), max(x["run_s"] for x in runs),
                    min(x["process_rss_kib"] for x in runs) / 1024, max(x["process_rss_kib"] for x in runs) / 1024))
            if key == "py_threads" and cap < n:
                notes.append("capped at %d OS threads: %d would exceed pid_max / max_map_count" % (cap, n))
            if notes:
                result["note"] = "; ".join(notes)
            return result

        rows.append(attempt(row, measure))
    return rows


def conns_rows(r):
    """3b. Memory per idle connection: an echo server's RSS growth over
    5,000 connections parked in recv (idle_conns.py), ÷ connections."""
    s = r.s
    servers = [
        ("threads", "python3.11 threads", "python3.11", "echo_threads.py", ()),
        ("gevent", "gevent threads (-m gevent.monkey)", "gevent", "echo_threads.py", ()),
        ("tf_threads", "tfpython threads", "tfpython", "echo_threads.py", ("socket", "threading")),
        ("tf_spawn", "tfpython theframework.spawn", "tfpython", "echo_spawn.py", ("socket",)),
        ("tf_threads_epoll", "tfpython threads, epoll engine", "tfpython-epoll", "echo_threads.py",
         ("socket", "threading")),
    ]
    # idle_conns.py needs the connections, its 200 warm-up ones and 100
    # spare fds; under a low open-file limit (a container's 1024) fewer
    # connections are measured, and the notes say so.
    limit = raise_nofile()
    conns = min(IDLE_CONNS, limit - 300)
    rows = []
    for key, label, runtime, script, needs in servers:
        row = {"key": key, "label": label, "runtime": runtime}

        def measure(runtime=runtime, script=script, needs=needs, label=label, row=row):
            r.check_runtime(runtime)
            if conns < 500:
                raise Failed("open-file limit %d: room for %d connections only" % (limit, conns))
            cmd = ([PY, str(BENCH / "idle_conns.py"), "--conns", conns, "--breakdown", "--"]
                   + pinned(SERVER_CPU, r.command(runtime, script)))
            runs = [r.run_json("conns %s run %d" % (label, i), cmd, 120, cpu=CLIENT_CPU)
                    for i in range(s.conns_repeats)]
            result = dict(sorted(runs, key=lambda x: x["kib_per_conn"])[len(runs) // 2])
            notes = [unpatched_note(result, needs), engine_note(row, result)]
            if conns < IDLE_CONNS:
                notes.append("%d connections, not %d: the open-file limit is %d" % (conns, IDLE_CONNS, limit))
            if len(runs) > 1:
                notes.append("median of %d runs: %.2f-%.2f KiB" % (
                    len(runs), min(x["kib_per_conn"] for x in runs), max(x["kib_per_conn"] for x in runs)))
            result["note"] = "; ".join(filter(None, notes))
            return result

        rows.append(attempt(row, measure))
    return rows


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


def latency_rows(r):
    """6. Wake-up latency: time.sleep(0.05) and select(timeout=0.05) overshoot; write -> select return."""
    s = r.s
    sleep_rows, select_rows, timeout_rows = [], [], []
    for call, rows in (("sleep", sleep_rows), ("select", timeout_rows)):
        for runtime in ("python3.11", "gevent", "tfpython"):
            row = {"key": runtime, "label": runtime if runtime != "gevent" else "gevent (-m gevent.monkey)",
                   "runtime": runtime}

            def measure(runtime=runtime, call=call):
                r.check_runtime(runtime)
                return r.run_json("latency %s %s" % (call, runtime),
                                  r.command(runtime, "latency_sleep.py", s.sleep_samples, 0.05, call),
                                  s.sleep_samples * 0.2 + 30)

            rows.append(attempt(row, measure))
    variants = [
        ("python3.11", "python3.11 threads", "python3.11", "threads", ()),
        ("gevent", "gevent threads (-m gevent.monkey)", "gevent", "threads", ()),
        ("tf_threads", "tfpython threads", "tfpython", "threads", ("select", "socket", "threading")),
        ("tf_spawn", "tfpython theframework.spawn", "tfpython", "spawn", ("select", "socket")),
    ]
    for key, label, runtime, mode, needs in variants:
        row = {"key": key, "label": label, "runtime": runtime}

        def measure(runtime=runtime, mode=mode, needs=needs, label=label):
            r.check_runtime(runtime)
            try:
                result = r.run_json("latency select %s" % label,
                                    r.command(runtime, "latency_select.py", mode, s.select_samples),
                                    s.select_samples * 0.01 + 30)
            except Failed as exc:
                if runtime == "tfpython" and "select did not return" in str(exc):
                    raise Failed("%s (needs cooperative %s)" % (exc, ", ".join(needs)))
                raise
            result["note"] = unpatched_note(result, needs)
            return result

        select_rows.append(attempt(row, measure))
    return {"sleep": sleep_rows, "select_timeout": timeout_rows, "select": select_rows}


# ------------------------------------------------------------------- driver

def shown_path(path):
    """PATH relative to the repository when it is inside it (for the report)."""
    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return float(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def versions(tfpython):
    def out(cmd):
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
            return (p.stdout or p.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.SubprocessError):
            return "unknown"

    def pkg(name):
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "missing"

    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    commit = out(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"])
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": commit + (" (with uncommitted changes)" if dirty else ""),
        "kernel": platform.release(), "cpu": cpu, "cpus": os.cpu_count(),
        "python": out([PY, "--version"]), "tfpython": out([str(tfpython), "--version"]),
        "tfpython_path": shown_path(tfpython), "loadavg_start": loadavg(),
        "gevent": pkg("gevent"), "uvloop": pkg("uvloop"),
        "wrk": out(["wrk", "--version"]).split(" [")[0], "hyperfine": out(["hyperfine", "--version"]),
        "openssl": out(["openssl", "version"]),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="every benchmark for a few seconds (CI)")
    ap.add_argument("--tfpython", required=True, type=Path)
    ap.add_argument("--build-dir", type=Path, default=ROOT / "build" / "bench")
    ap.add_argument("--strict", action="store_true",
                    help="exit 1 when a run that does not involve tfpython fails (a broken harness)")
    ap.add_argument("--only", default=",".join(BENCHMARKS),
                    help="comma-separated subset of: " + ", ".join(BENCHMARKS))
    ap.add_argument("--merge", action="store_true",
                    help="keep the other benchmarks of the last run of this mode (results/raw) in the report")
    args = ap.parse_args()
    only = [b.strip() for b in args.only.split(",") if b.strip()]
    unknown = set(only) - set(BENCHMARKS)
    if unknown:
        ap.error("unknown benchmark(s): %s" % ", ".join(sorted(unknown)))

    settings = Settings.for_mode(args.quick)
    mode = "quick" if args.quick else "full"
    tfpython = args.tfpython.resolve() if args.tfpython.exists() else args.tfpython
    raw = RESULTS / "raw"
    runner = Runner(settings, tfpython, args.build_dir.resolve(), raw / ("logs-" + mode))

    started = time.monotonic()
    results = {"mode": mode, "settings": settings.__dict__, "meta": versions(tfpython), "benchmarks": {}}
    if set(only) != set(BENCHMARKS):
        results["meta"]["only"] = only
    previous = raw / ("%s.json" % mode)
    if args.merge and previous.exists():
        kept = json.loads(previous.read_text())
        results["benchmarks"] = {k: v for k, v in kept["benchmarks"].items() if k not in only}
        results["meta"]["merged_from"] = kept["meta"]
        results["meta"]["rerun"] = only
    steps = {"echo": echo_rows, "http": http_rows, "tls": tls_rows, "https": lambda r: http_rows(r, tls=True),
             "cores": cores_rows, "echoscale": echo_scale_rows,
             "sleepers": sleepers_rows, "conns": conns_rows,
             "startup": startup_rows, "idle": idle_rows, "latency": latency_rows}
    for name in BENCHMARKS:
        if name not in only:
            continue
        print("== %s" % name, flush=True)
        t0 = time.monotonic()
        results["benchmarks"][name] = steps[name](runner)
        print("   (%.0f s)" % (time.monotonic() - t0), flush=True)
    results["meta"]["duration_s"] = time.monotonic() - started
    results["meta"]["loadavg_end"] = loadavg()

    raw.mkdir(parents=True, exist_ok=True)
    (raw / ("%s.json" % mode)).write_text(json.dumps(results, indent=1))
    if args.quick:
        md, charts = RESULTS / "quick.md", RESULTS / "quick"
    else:
        md, charts = RESULTS / "latest.md", RESULTS
    report.write(results, md, charts)
    print("report: %s (%.0f s)" % (md.relative_to(ROOT), results["meta"]["duration_s"]), flush=True)
    failures = report.failures(results)
    for bench, row in failures:
        print("failed: %s / %s: %s" % (bench, row["label"], row.get("error")), flush=True)
    broken = [row for _, row in failures if row.get("runtime") != "tfpython"]
    if args.strict and broken:
        print("--strict: %d run(s) without tfpython failed" % len(broken), flush=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
