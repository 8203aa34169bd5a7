"""A WSGI app that names the worker that served each request, for
``gunicorn`` with pre-forked workers (see README.md, "Every core")::

    tfpython -m gunicorn -k gthread --threads 50 -w 2 -b 127.0.0.1:8000 wsgi_app:app

Each answer is a JSON line: the worker's pid, and whether it runs inside
tfpython's hub (False under python3).
"""
import json
import os

from server import runtime  # the same answer as server.py's workers give


def app(environ, start_response):
    body = (json.dumps(dict(pid=os.getpid(), path=environ.get("PATH_INFO", "/"), **runtime())) + "\n").encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
