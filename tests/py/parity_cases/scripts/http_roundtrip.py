import http.server
import threading
import urllib.error
import urllib.request


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/missing":
            self.send_error(404, "no such page")
            return
        body = ("you asked for " + self.path).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
threading.Thread(target=server.serve_forever, daemon=True).start()
base = "http://127.0.0.1:%d" % server.server_address[1]
with urllib.request.urlopen(base + "/hello", timeout=10) as resp:
    print(resp.status, resp.headers["Content-Type"], resp.read())
try:
    urllib.request.urlopen(base + "/missing", timeout=10)
except urllib.error.HTTPError as exc:
    print("HTTPError", exc.code, exc.reason)
try:
    urllib.request.urlopen("http://127.0.0.1:1/", timeout=10)
except urllib.error.URLError as exc:
    print("URLError", exc.reason)
server.shutdown()
server.server_close()
print("server stopped")
