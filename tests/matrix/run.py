#!/usr/bin/python3.11
"""Real third-party software under python3.11 and under tfpython.

Each row runs one workload (a project's own test suite, a server under
concurrent clients, a program) once under each interpreter and compares
what it shows: pass counts, responses, output. A row fails when the two
differ (unless KNOWN_DIFFERENCES gives the reason), or when something that
must hold under both does not (a server answered with errors, a request
waited on a timeout). Timings are shown, never compared: two cores shared
with other work make them noisy.

    tests/matrix/run.py --tfpython build/default/tfpython [--only tornado,django-test]
                        [--repeat N] [--report tests/matrix/results/latest.md]

Everything it needs comes from Debian (packaging/install-deps.sh,
matrix_deps). It prints one line per row and closes with "N passed, N
failed".
"""
import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
APPS = HERE / "apps"
PYTHON = "/usr/bin/python3.11"

#: row name -> why tfpython's facts differ from python3's (none today).
KNOWN_DIFFERENCES = {}

#: A p99 above this is a request that waited on a timeout (gunicorn's
#: gthread worker waits up to 1 s in its selector when it misses a
#: keep-alive connection), whatever the load.
P99_LIMIT_MS = 500.0


class Run:
    """What one interpreter showed for one row: `facts` are compared with
    the other interpreter's; `info` is shown; `problems` fail the row."""

    def __init__(self):
        self.facts = {}
        self.info = []
        self.problems = []
        self.seconds = 0.0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, proc, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port} after {timeout} s")


@contextlib.contextmanager
def server(cmd, port, cwd=None, env=None):
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_for_port(port, proc)
        yield proc
    except BaseException:
        log.seek(0)
        sys.stderr.write(log.read().decode(errors="replace")[-3000:])
        raise
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        log.close()


def get(url, data=None, timeout=10):
    with urllib.request.urlopen(url, data=data, timeout=timeout) as r:
        return r.status, r.read()


def wrk(url, connections, seconds, threads=2):
    out = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", url],
                         capture_output=True, text=True, timeout=seconds + 30).stdout

    def ms(label):
        m = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not m:
            return None
        return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {"rps": float(rps.group(1)) if rps else 0.0, "p50": ms("50%"), "p99": ms("99%"),
            "non2xx": int(non2xx.group(1)) if non2xx else 0,
            "errors": sum(map(int, errors.groups())) if errors else 0, "raw": out}


def load(run, interp, url, connections, seconds, repeat):
    """wrk against url (repeat times): shows req/s and latency, and fails
    on error responses, or (tfpython's) a p99 that means a wait on a
    timeout."""
    results = [wrk(url, connections, seconds) for _ in range(repeat)]
    for r in results:
        if r["non2xx"]:
            run.problems.append(f"{r['non2xx']} non-2xx responses")
        if r["errors"]:
            run.problems.append(f"{r['errors']} socket errors")
        if interp != PYTHON and (r["p99"] is None or r["p99"] > P99_LIMIT_MS):
            run.problems.append(f"p99 {r['p99']} ms: requests waited on a timeout")
    run.load = results

    def span(key, fmt):
        values = [r[key] for r in results if r[key] is not None]
        if not values:
            return "?"
        lo, hi = min(values), max(values)
        return fmt.format(lo) if lo == hi else (fmt + "-" + fmt).format(lo, hi)
    run.info.append(f"{span('rps', '{:.0f}')} req/s, p50 {span('p50', '{:.1f}')} ms, p99 {span('p99', '{:.1f}')} ms")


# ------------------------------------------------------------------ rows --

def row_tornado(interp, work, repeat):
    """tornado's own test suite (tornado.test.runtests), counted per module."""
    run = Run()

    def suite(*modules):
        report = work / "tornado.json"
        report.unlink(missing_ok=True)
        p = subprocess.run([interp, APPS / "tornado_modules.py", report, *modules], capture_output=True,
                           text=True, timeout=600, cwd=work)
        return p, (json.loads(report.read_text()) if report.exists() else {})
    p, counts = suite()
    # A few of its tests allow a request 100 ms (a TLS handshake included):
    # on two shared cores they can miss it under either interpreter. A
    # module that failed gets one more run on its own, and the row says so.
    failing = [m for m, c in counts.items() if m.startswith("tornado.") and (c.get("failed") or c.get("errors"))]
    if failing and len(failing) <= 3:
        again, recounted = suite(*failing)
        run.info.append(f"re-ran {', '.join(failing)} after: {p.stderr.strip().splitlines()[-1]}")
        counts.update({m: recounted.get(m, {}) for m in failing})
        if not again.returncode:
            p = again
    run.facts["modules"] = counts
    run.facts["exit"] = p.returncode
    total = {k: sum(c.get(k, 0) for c in counts.values()) for k in ("ok", "failed", "errors", "skipped")}
    run.info.insert(0, f"{len(counts)} modules: {total['ok']} ok, {total['failed']} failed, "
                       f"{total['errors']} errors, {total['skipped']} skipped")
    if p.returncode or total["failed"] or total["errors"]:
        run.problems.append("the suite failed:\n" + p.stderr[-3000:])
    return run


def row_asyncio_threads(interp, work, repeat):
    """asyncio loops in several threads (server, clients, run_coroutine_threadsafe, executors, to_thread)."""
    return _program(interp, "asyncio_threads.py")


def _gunicorn(interp, work, repeat, worker):
    run = Run()
    port = free_port()
    cmd = [interp, "-m", "gunicorn", "-k", worker, "-w", "1", "-b", f"127.0.0.1:{port}",
           "--chdir", str(APPS), "flask_app:app"]
    if worker == "gthread":
        cmd[5:5] = ["--threads", "4"]
    with server(cmd, port):
        base = f"http://127.0.0.1:{port}"
        run.facts["responses"] = [get(f"{base}/"), get(f"{base}/echo/tfpython"),
                                  _status_of(f"{base}/missing")]
        load(run, interp, f"{base}/", 50, 3, repeat)
    return run


def _status_of(url):
    try:
        return get(url)[0]
    except urllib.error.HTTPError as e:
        return e.code


def row_gunicorn_gthread(interp, work, repeat):
    """gunicorn -k gthread --threads 4 serving a Flask app; wrk -c50 with keep-alive."""
    return _gunicorn(interp, work, repeat, "gthread")


def row_gunicorn_sync(interp, work, repeat):
    """gunicorn -k sync serving a Flask app; wrk -c50 (the sync worker closes each connection)."""
    return _gunicorn(interp, work, repeat, "sync")


def _django_project(interp, work):
    project = work / "project"
    if project.exists():
        shutil.rmtree(project)
    project.mkdir()
    steps = [[interp, "-m", "django", "startproject", "mysite", str(project)],
             [interp, "manage.py", "startapp", "polls"]]
    for step in steps:
        subprocess.run(step, cwd=project, check=True, capture_output=True, timeout=120)
    for name in ("models.py", "views.py", "urls.py", "tests.py"):
        shutil.copy(APPS / "django_polls" / name, project / "polls" / name)
    settings = project / "mysite" / "settings.py"
    settings.write_text(settings.read_text().replace("INSTALLED_APPS = [", "INSTALLED_APPS = [\n    'polls',", 1))
    urls = project / "mysite" / "urls.py"
    urls.write_text(urls.read_text().replace("from django.urls import path", "from django.urls import include, path")
                    + "\nurlpatterns += [path('polls/', include('polls.urls'))]\n")
    for step in ([interp, "manage.py", "makemigrations", "polls"], [interp, "manage.py", "migrate"]):
        p = subprocess.run(step, cwd=project, capture_output=True, text=True, timeout=300)
        if p.returncode:
            raise RuntimeError(p.stdout + p.stderr)
    return project


def row_django_runserver(interp, work, repeat):
    """django-admin startproject + startapp, migrate, runserver --noreload under 8 concurrent clients."""
    run = Run()
    project = _django_project(interp, work)
    port = free_port()
    with server([interp, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"], port, cwd=project):
        base = f"http://127.0.0.1:{port}"

        def one(n):
            if n % 3 == 0:  # the project's urls: admin and polls only
                return _status_of(f"{base}/nowhere"), None
            if n % 3 == 1:
                status, body = get(f"{base}/admin/login/")
                return status, b'name="username"' in body
            status, body = get(f"{base}/polls/")
            return status, json.loads(body)
        start = time.monotonic()
        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(one, range(240)))
        seconds = time.monotonic() - start
    run.facts["responses"] = results
    run.info.append(f"240 requests from 8 clients in {seconds:.2f} s")
    if any(status != (404 if n % 3 == 0 else 200) for n, (status, _) in enumerate(results)):
        run.problems.append("a request did not get its status")
    return run


def row_django_test(interp, work, repeat):
    """manage.py test of a generated app (TestCase, Client, LiveServerTestCase with concurrent clients)."""
    run = Run()
    project = _django_project(interp, work)
    p = subprocess.run([interp, "manage.py", "test", "polls", "-v", "1"], cwd=project, capture_output=True,
                       text=True, timeout=300)
    ran = re.search(r"^Ran (\d+) tests?", p.stderr, re.M)
    verdict = re.search(r"^(OK.*|FAILED.*)$", p.stderr, re.M)
    run.facts["ran"] = ran.group(1) if ran else None
    run.facts["verdict"] = verdict.group(1) if verdict else None
    run.facts["exit"] = p.returncode
    run.info.append(f"ran {run.facts['ran']}: {run.facts['verdict']}")
    if p.returncode:
        run.problems.append(p.stderr[-3000:])
    return run


TRIAL_MODULES = ["twisted.test.test_tcp", "twisted.test.test_threads", "twisted.test.test_udp",
                 "twisted.test.test_process", "twisted.web.test.test_web"]


def row_twisted_trial(interp, work, repeat):
    """Twisted's trial on its tcp, threads, udp, process and web tests."""
    run = Run()
    p = subprocess.run([interp, "-m", "twisted.trial", *TRIAL_MODULES], capture_output=True, text=True,
                       timeout=600, cwd=work)
    ran = re.search(r"^Ran (\d+) tests", p.stdout, re.M)
    verdict = re.search(r"^(PASSED|FAILED) \((.*)\)$", p.stdout, re.M)
    run.facts["ran"] = ran.group(1) if ran else None
    run.facts["verdict"] = verdict.group(0) if verdict else None
    run.info.append(f"ran {run.facts['ran']}: {run.facts['verdict']}")
    if not verdict or verdict.group(1) != "PASSED":
        run.problems.append(p.stdout[-3000:])
    return run


def _wsgi_server(run, interp, cmd, port, repeat, cwd=APPS):
    with server(cmd, port, cwd=cwd):
        base = f"http://127.0.0.1:{port}"
        run.facts["responses"] = [get(f"{base}/a"), get(f"{base}/b", data=b"posted")]
        with ThreadPoolExecutor(8) as pool:
            run.facts["concurrent"] = sorted(set(pool.map(lambda n: get(f"{base}/c")[0], range(80))))
        load(run, interp, f"{base}/", 20, 2, repeat)
    return run


def row_waitress(interp, work, repeat):
    """waitress (4 threads) serving a WSGI app; 8 concurrent clients, then wrk -c20."""
    port = free_port()
    return _wsgi_server(Run(), interp, [interp, "-m", "waitress", "--listen", f"127.0.0.1:{port}", "--threads", "4",
                                "wsgi_app:app"], port, repeat)


def row_cheroot(interp, work, repeat):
    """cheroot (CherryPy's server, 4 threads) serving a WSGI app; 8 concurrent clients, then wrk -c20."""
    port = free_port()
    return _wsgi_server(Run(), interp, [interp, str(APPS / "cheroot_serve.py"), str(port)], port, repeat)


def row_pytest_xdist(interp, work, repeat):
    """pytest -n 2 (pytest-xdist over execnet: worker processes fed through pipes by threads)."""
    run = Run()
    suite = work / "xdist"
    suite.mkdir(exist_ok=True)
    shutil.copy(APPS / "xdist_suite.py", suite / "test_xdist_suite.py")
    p = subprocess.run([interp, "-m", "pytest", "-n", "2", "-q", "-p", "no:cacheprovider", str(suite)],
                       capture_output=True, text=True, timeout=300, cwd=suite)
    summary = re.search(r"^(\d+ passed.*) in [\d.]+s", p.stdout, re.M)
    run.facts["summary"] = summary.group(1) if summary else p.stdout[-300:]
    run.facts["exit"] = p.returncode
    run.info.append(run.facts["summary"] if summary else "no summary")
    if p.returncode:
        run.problems.append(p.stdout[-2000:] + p.stderr[-2000:])
    return run


def _program(interp, script, *args):
    run = Run()
    p = subprocess.run([interp, APPS / script, *args], capture_output=True, text=True, timeout=120)
    run.facts["output"] = p.stdout
    run.facts["exit"] = p.returncode
    lines = len(p.stdout.splitlines())
    run.info.append(f"{lines} line{'s' if lines != 1 else ''} of output")
    if p.returncode:
        run.problems.append(p.stderr[-2000:])
    return run


def row_redis(interp, work, repeat):
    """redis-py from 8 threads (pooled client, pipeline, pub/sub listener thread) against a redis-server."""
    port = free_port()
    with server(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                port, cwd=work):
        return _program(interp, "redis_threads.py", str(port))


def row_paramiko(interp, work, repeat):
    """paramiko: an SSH server (a Transport thread per connection) and 4 SSH clients in threads."""
    return _program(interp, "paramiko_threads.py")


def row_processes(interp, work, repeat):
    """ProcessPoolExecutor fed from a thread pool, multiprocessing.Pool (imap, map_async callback), a Queue read by a thread."""
    return _program(interp, "processes_threads.py")


def row_requests_threads(interp, work, repeat):
    """requests (urllib3) from an 8-thread pool, a Session per thread, against a ThreadingHTTPServer."""
    return _program(interp, "requests_threads.py")


ROWS = {
    "tornado": row_tornado,
    "asyncio-threads": row_asyncio_threads,
    "gunicorn-gthread": row_gunicorn_gthread,
    "gunicorn-sync": row_gunicorn_sync,
    "django-runserver": row_django_runserver,
    "django-test": row_django_test,
    "twisted-trial": row_twisted_trial,
    "waitress": row_waitress,
    "cheroot": row_cheroot,
    "pytest-xdist": row_pytest_xdist,
    "requests-threads": row_requests_threads,
    "processes": row_processes,
    "redis": row_redis,
    "paramiko": row_paramiko,
}


def run_row(fn, interp, work, repeat):
    start = time.monotonic()
    try:
        run = fn(interp, work, repeat)
    except Exception as e:  # the row could not run at all
        run = Run()
        run.problems.append(f"{type(e).__name__}: {e}")
        run.facts["crashed"] = True
    run.seconds = time.monotonic() - start
    return run


def first_difference(a, b, path="facts"):
    if type(a) is not type(b):
        return f"{path}: {a!r} vs {b!r}"
    if isinstance(a, dict):
        for key in sorted(set(a) | set(b), key=str):
            if key not in a or key not in b:
                return f"{path}[{key!r}]: {a.get(key)!r} vs {b.get(key)!r}"
            d = first_difference(a[key], b[key], f"{path}[{key!r}]")
            if d:
                return d
        return None
    if isinstance(a, (list, tuple)) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            d = first_difference(x, y, f"{path}[{i}]")
            if d:
                return d
        return None
    return None if a == b else f"{path}: {str(a)[:300]!r} vs {str(b)[:300]!r}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tfpython", required=True)
    parser.add_argument("--only", help="comma-separated row names")
    parser.add_argument("--repeat", type=int, default=1, help="wrk runs per server row (ranges shown)")
    parser.add_argument("--report", help="write the table as markdown here")
    args = parser.parse_args()
    tfpython = str(Path(args.tfpython).resolve())
    names = args.only.split(",") if args.only else list(ROWS)
    unknown = [n for n in names if n not in ROWS]
    if unknown:
        parser.error(f"unknown rows: {unknown}; rows are {list(ROWS)}")
    table = []
    passed = failed = 0
    for name in names:
        fn = ROWS[name]
        runs = {}
        for label, interp in (("python3.11", PYTHON), ("tfpython", tfpython)):
            with tempfile.TemporaryDirectory(prefix=f"matrix-{name}-") as work:
                runs[label] = run_row(fn, interp, Path(work), args.repeat)
        py, tf = runs["python3.11"], runs["tfpython"]
        difference = first_difference(py.facts, tf.facts)
        reasons = [f"python3.11: {p}" for p in py.problems] + [f"tfpython: {p}" for p in tf.problems]
        if difference and name not in KNOWN_DIFFERENCES:
            reasons.append(f"differs from python3.11: {difference}")
        verdict = "same" if not difference else f"differs (known: {KNOWN_DIFFERENCES[name]})" \
            if name in KNOWN_DIFFERENCES else "DIFFERS"
        ok = not reasons
        passed += ok
        failed += not ok
        print(f"{'PASS' if ok else 'FAIL'} {name}: {verdict}; python3.11 {'; '.join(py.info)} "
              f"({py.seconds:.1f} s); tfpython {'; '.join(tf.info)} ({tf.seconds:.1f} s)", flush=True)
        for r in reasons:
            print("    " + r.replace("\n", "\n    "), flush=True)
        table.append((name, fn.__doc__.strip().split("\n")[0], py, tf, verdict if ok else "FAIL: " + verdict))
    if args.report:
        write_report(Path(args.report), table, args.repeat)
    print(f"matrix: {passed} passed, {failed} failed")
    return 1 if failed else 0


def write_report(path, table, repeat):
    lines = [f"# Third-party matrix ({time.strftime('%Y-%m-%d')}, tests/matrix/run.py, wrk runs per server: "
             f"{repeat})", "",
             "| row | what runs | python3.11 | tfpython | result |", "| --- | --- | --- | --- | --- |"]
    for name, what, py, tf, verdict in table:
        lines.append(f"| {name} | {what} | {'; '.join(py.info)} ({py.seconds:.0f} s) | "
                     f"{'; '.join(tf.info)} ({tf.seconds:.0f} s) | {verdict} |")
    tornado = [(py, tf) for name, _, py, tf, _ in table if name == "tornado"]
    if tornado:
        py, tf = tornado[0]
        lines += ["", "tornado per module (ok/failed/errors/skipped):", "",
                  "| module | python3.11 | tfpython |", "| --- | --- | --- |"]
        modules = py.facts.get("modules", {})
        tf_modules = tf.facts.get("modules", {})

        def cell(c):
            return "/".join(str(c.get(k, 0)) for k in ("ok", "failed", "errors", "skipped")) if c else "-"
        for module in sorted(set(modules) | set(tf_modules)):
            lines.append(f"| {module} | {cell(modules.get(module))} | {cell(tf_modules.get(module))} |")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    sys.exit(main())
