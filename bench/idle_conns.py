#!/usr/bin/python3.11
"""Memory per idle connection: RSS growth of an echo server ÷ connections.

    idle_conns.py [--conns N] [--warmup W] [--cpu C] [--breakdown] -- SERVER COMMAND...

Starts the server (an echo_*.py; it prints its port as benchutil.announce
does), opens W connections and closes them again (so that one-off costs —
the first thread, pools, code objects — fall before the baseline), reads
the server's RSS, then opens N connections, echoes one 64-byte message on
each (so every handler has run and is parked in recv), waits for the
server's RSS to settle and reads it again. Prints one JSON line:
kib_per_conn = (RSS after - RSS before) / N, and the server's memory
statistics before and after (benchutil.memory_stats(), asked for with
SIGUSR1 when --breakdown is given).

The soft RLIMIT_NOFILE is raised to the hard limit here and, through
prlimit(2), in the server.
"""
import argparse
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time

MSG = b"x" * 64


def status(pid, key="VmRSS"):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise RuntimeError("no %s for pid %d" % (key, pid))


def settle(pid, seconds=0.3, limit=5.0):
    """RSS once it has stopped moving for `seconds` (a server still starting
    handlers keeps growing)."""
    deadline = time.monotonic() + limit
    last = status(pid)
    while time.monotonic() < deadline:
        time.sleep(seconds)
        now = status(pid)
        if now == last:
            break
        last = now
    return last


def echo_once(sock):
    sock.sendall(MSG)
    echo_rest(sock)


def echo_rest(sock):
    got = 0
    while got < len(MSG):
        data = sock.recv(len(MSG) - got)
        if not data:
            raise RuntimeError("server closed a connection")
        got += len(data)


def connect_all(addr, n, burst=False):
    conns = []
    for _ in range(n):
        s = socket.create_connection(addr)
        if not burst:
            echo_once(s)
        conns.append(s)
    if burst:  # every connection first, then the messages
        for s in conns:
            s.sendall(MSG)
        for s in conns:
            echo_rest(s)
    # Once more on every connection: the handler has gone round its loop
    # once (what a connection that sent a message and went quiet holds).
    for s in conns:
        echo_once(s)
    return conns


def stats(proc, path):
    if not path:
        return None
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    os.kill(proc.pid, signal.SIGUSR1)
    deadline = time.monotonic() + 60
    while not os.path.exists(path):
        if time.monotonic() > deadline or proc.poll() is not None:
            raise RuntimeError("the server wrote no statistics")
        time.sleep(0.05)
    with open(path) as f:
        return json.loads(f.read())


def explain(result, out):
    """The breakdown, per connection, for a reader."""
    n, b, a = result["conns"], result["before"], result["after"]
    w = lambda *x: print(*x, file=out)
    w("RSS %.2f KiB/conn (anon %.2f)" % (result["kib_per_conn"], (a.get("RssAnon", 0) - b.get("RssAnon", 0)) / n))
    w("pymalloc blocks %.1f/conn" % ((a["allocated_blocks"] - b["allocated_blocks"]) / n))
    if "malloc" in a:
        for k in ("arena", "hblkhd", "uordblks", "fordblks"):
            w("malloc %-9s %8.1f B/conn" % (k, (a["malloc"][k] - b["malloc"][k]) / n))
    for name, (count, size) in a["gc_types"].items():
        c0, s0 = b["gc_types"].get(name, (0, 0))
        if count - c0 >= n // 2:
            w("gc %-28s %5.2f/conn %7.1f B/conn" % (name, (count - c0) / n, (size - s0) / n))
    fa, fb = a.get("framework"), b.get("framework")
    if fa:
        for k, v in fa.items():
            if isinstance(v, (int, float)):
                w("framework %-28s %10.1f /conn (%s)" % (k, (v - fb.get(k, 0)) / n, v))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--conns", type=int, default=5000)
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--breakdown", action="store_true")
    ap.add_argument("--burst", action="store_true",
                    help="open every connection before the first message (a burst of accepts)")
    ap.add_argument("server", nargs=argparse.REMAINDER)
    args = ap.parse_args()
    cmd = args.server[1:] if args.server[:1] == ["--"] else args.server
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    need = args.conns + args.warmup + 100
    if hard < need:
        sys.exit("RLIMIT_NOFILE hard limit %d < %d" % (hard, need))
    env = dict(os.environ)
    tmp = tempfile.mkdtemp(prefix="idle_conns.")
    stats_path = os.path.join(tmp, "stats.json") if args.breakdown else None
    if stats_path:
        env["BENCH_STATS"] = stats_path
    # The child inherits the raised limit.
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, env=env, start_new_session=True)
    try:
        line = proc.stdout.readline().decode()
        info = json.loads(line)
        addr = ("127.0.0.1", int(info["listening"]))
        warm = connect_all(addr, args.warmup)
        for s in warm:
            s.close()
        time.sleep(0.3)
        before_stats = stats(proc, stats_path)
        rss0 = settle(proc.pid)
        t0 = time.monotonic()
        conns = connect_all(addr, args.conns, args.burst)
        connect_s = time.monotonic() - t0
        rss1 = settle(proc.pid)
        after_stats = stats(proc, stats_path)
        result = dict(conns=args.conns, rss_before_kib=rss0, rss_after_kib=rss1,
                      kib_per_conn=(rss1 - rss0) / args.conns, connect_s=connect_s,
                      runtime=info.get("runtime"), backend=info.get("backend"),
                      patched=info.get("patched"))
        if before_stats and after_stats:
            result["before"], result["after"] = before_stats, after_stats
        for s in conns:
            s.close()
        print(json.dumps(result), flush=True)
        if result.get("after"):
            explain(result, sys.stderr)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
        for name in os.listdir(tmp):
            os.unlink(os.path.join(tmp, name))
        os.rmdir(tmp)


if __name__ == "__main__":
    main()
