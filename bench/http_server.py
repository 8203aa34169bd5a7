"""HTTP server: stdlib http.server.ThreadingHTTPServer, HTTP/1.1 keep-alive.

    http_server.py [--tls CERTFILE KEYFILE] [PORT]

Answers every GET with the same small page (Content-Length set, so
connections stay open), with Nagle disabled on each connection and request
logging silenced. One thread per connection, which python3.11 -m
gevent.monkey and tfpython turn into greenlets. With --tls it serves HTTPS
the way the documentation's examples do: the listening socket is wrapped
with ``SSLContext.wrap_socket`` (each accept makes the handshake).
Runs until killed.
"""
import ssl
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import benchutil

BODY = b"<!doctype html>\n<html><body><h1>Hello from the benchmark</h1></body></html>\n"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # StreamRequestHandler.setup() sets TCP_NODELAY when this is true.
    disable_nagle_algorithm = True

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, format, *args):
        pass


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024


def main():
    args = sys.argv[1:]
    tls = None
    if args[:1] == ["--tls"]:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(args[1], args[2])
        args = args[3:]
    port = int(args[0]) if args else 0
    server = Server(("127.0.0.1", port), Handler)
    if tls:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    benchutil.announce(server.server_address[1], body_bytes=len(BODY),
                       tls=ssl.OPENSSL_VERSION if tls else None)
    server.serve_forever()


if __name__ == "__main__":
    main()
