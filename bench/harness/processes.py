"""The processes of a benchmark run: the machine layout (which CPU runs
what), the Failed exception, CPU and process sampling from /proc, and the
Runner (runs a workload to completion) and Server (a server alive for a
`with` block) every benchmark uses."""
import contextlib
import json
import os
import re
import resource
import select
import shlex
import signal
import subprocess
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent
ROOT = BENCH.parent
PY = "/usr/bin/python3.11"
HOST = "127.0.0.1"
SERVER_CPU, CLIENT_CPU = 0, 1
CLK_TCK = os.sysconf("SC_CLK_TCK")


class Failed(Exception):
    """A run that failed; its message becomes the table's "failed: ..." text."""


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
