"""A thread-per-request HTTP server on the plain standard library; in the
tfpython image its threads are fibers on the hub. PORT sets the port."""
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Hello(BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"hello from tfpython\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


if __name__ == "__main__":
    port = int(os.environ.get("PORT", "8000"))
    print("serving on port %d" % port, flush=True)
    ThreadingHTTPServer(("", port), Hello).serve_forever()
