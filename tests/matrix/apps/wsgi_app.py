"""A plain WSGI app for the waitress and cheroot rows."""
import json
import threading

_local = threading.local()


def app(environ, start_response):
    _local.count = getattr(_local, "count", 0) + 1
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    payload = json.dumps({"path": environ["PATH_INFO"], "method": environ["REQUEST_METHOD"],
                          "echo": body.decode(), "local": _local.count >= 1}).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))])
    return [payload]
