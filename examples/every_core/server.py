"""One server process per core on one port: plain standard library.

    python3  server.py [--workers N] [--port P] [--host H] [--mode reuseport|fork]
    tfpython server.py [--workers N] [--port P] [--host H] [--mode reuseport|fork]

Runs unchanged under python3 and tfpython. The parent starts N workers
(default: one per CPU it may run on) that all accept on HOST:PORT, then
waits; each worker serves a ``ThreadingHTTPServer`` (a thread per
connection: under tfpython those threads are fibers on that worker's hub).
Every answer is a JSON line naming the worker that served it::

    {"pid": 12345, "hub": true, "backend": "io_uring", "path": "/"}

Two ways to share the port, both ordinary Linux:

- ``--mode reuseport`` (the default): each worker is a fresh
  ``sys.executable`` that makes its own listening socket with
  ``SO_REUSEPORT``; the kernel spreads new connections across the workers'
  sockets (by a hash of the connection's addresses, so each worker gets its
  own accept queue and no worker wakes for another's connection).
- ``--mode fork``: the parent binds and listens once, then ``os.fork()``s
  the workers, which all accept on the inherited socket (the pre-fork model
  of gunicorn and most servers). Whichever worker is waiting takes the next
  connection.

The parent prints ``listening PORT WORKERS`` on stdout once every worker
accepts. SIGTERM or SIGINT (Ctrl-C) to the parent ends every worker and
then the parent; a worker whose parent vanished (SIGKILL) notices the
closed pipe it holds to the parent and exits too. A worker that dies
stops the whole server (exit status 1): restarting workers is a process
supervisor's job (gunicorn's arbiter does it, see README.md).
"""
import argparse
import json
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


try:
    import theframework  # tfpython's own package: there under tfpython
except ImportError:  # plain python3
    theframework = None


def runtime():
    """Whether this process runs inside tfpython's hub, and on which engine."""
    if theframework is None:
        return {"hub": False, "backend": None}
    return {"hub": bool(theframework.hub_is_running()), "backend": theframework.backend()}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive
    disable_nagle_algorithm = True

    def do_GET(self):
        body = (json.dumps(dict(pid=os.getpid(), path=self.path, **runtime())) + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        pass


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024


def reuseport_socket(host, port):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def watch_parent(fd):
    """Exit when the pipe from the parent closes (the parent is gone)."""
    def watch():
        # select() first: it waits cooperatively under tfpython and gevent,
        # where a bare os.read() of a pipe may not.
        try:
            while True:
                select.select([fd], [], [])
                if not os.read(fd, 1):
                    break
        except OSError:
            pass
        os._exit(0)
    threading.Thread(target=watch, daemon=True, name="watch-parent").start()


def serve(listener, ready_fd, parent_fd):
    """A worker: serve on the listening socket until SIGTERM / SIGINT."""
    def stop(signum, frame):
        raise SystemExit(0)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    watch_parent(parent_fd)
    server = Server(listener.getsockname(), Handler, bind_and_activate=False)
    server.socket.close()
    server.socket = listener
    os.write(ready_fd, b"r")
    os.close(ready_fd)
    try:
        server.serve_forever()
    except SystemExit:
        pass
    finally:
        server.server_close()


def worker_main(args):
    """--worker (reuseport mode): a fresh interpreter started by the parent."""
    listener = reuseport_socket(args.host, args.port)
    listener.listen(1024)
    serve(listener, args.ready_fd, args.parent_fd)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)))
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8000, help="0: any free port")
    ap.add_argument("--mode", choices=("reuseport", "fork"), default="reuseport")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--ready-fd", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--parent-fd", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        return worker_main(args)

    # Workers write one byte on `ready` once they accept; they read
    # `alive` until the parent's end closes.
    ready_r, ready_w = os.pipe()
    alive_r, alive_w = os.pipe()
    workers = []  # Popen objects (reuseport) or pids (fork)
    if args.mode == "reuseport":
        # Binding (without listening) reserves the port for port 0, and is
        # the group's first member; it never accepts anything.
        holder = reuseport_socket(args.host, args.port)
        port = holder.getsockname()[1]
        for _ in range(args.workers):
            cmd = [sys.executable, os.path.abspath(__file__), "--worker", "--host", args.host,
                   "--port", str(port), "--ready-fd", str(ready_w), "--parent-fd", str(alive_r)]
            workers.append(subprocess.Popen(cmd, pass_fds=(ready_w, alive_r)))
    else:
        listener = socket.create_server((args.host, args.port), backlog=1024)
        port = listener.getsockname()[1]
        for _ in range(args.workers):
            pid = os.fork()
            if pid == 0:
                code = 0
                try:
                    os.close(ready_r)
                    os.close(alive_w)
                    serve(listener, ready_w, alive_r)
                except BaseException:
                    import traceback
                    traceback.print_exc()
                    code = 1
                finally:
                    os._exit(code)
            workers.append(pid)
        listener.close()
    os.close(ready_w)
    os.close(alive_r)

    stopping = []

    def stop(signum, frame):
        stopping.append(signum)
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    pids = [w.pid if hasattr(w, "pid") else w for w in workers]
    status = 0
    try:
        got = b""
        while len(got) < len(pids):
            chunk = os.read(ready_r, len(pids) - len(got))
            if not chunk:
                raise SystemExit("a worker exited before it was ready")
            got += chunk
        print("listening %d %d" % (port, len(pids)), flush=True)
        # Wait for any worker to end: that ends the server.
        pid, wstatus = os.wait()
        pids.remove(pid)
        print("worker %d exited (status %d): stopping" % (pid, os.waitstatus_to_exitcode(wstatus)),
              file=sys.stderr, flush=True)
        status = 1
    except KeyboardInterrupt:
        if not stopping:
            raise
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        for pid in pids:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 5
        for pid in pids:
            while True:
                try:
                    done, _ = os.waitpid(pid, os.WNOHANG)
                except ChildProcessError:
                    break
                if done:
                    break
                if time.monotonic() > deadline:
                    os.kill(pid, signal.SIGKILL)
                    os.waitpid(pid, 0)
                    break
                time.sleep(0.02)
        os.close(alive_w)
    return status


if __name__ == "__main__":
    sys.exit(main())
