"""requests from a thread pool against a ThreadingHTTPServer in the same
program, over one Session per thread (threading.local) with keep-alive."""
import concurrent.futures
import http.server
import json
import threading

import requests


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        body = json.dumps({"path": self.path}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
threading.Thread(target=server.serve_forever, daemon=True).start()
base = "http://127.0.0.1:%d" % server.server_address[1]
sessions = threading.local()


def fetch(n):
    if not hasattr(sessions, "s"):
        sessions.s = requests.Session()
    r = sessions.s.get(f"{base}/item/{n}", timeout=10)
    return r.status_code, r.json()["path"]


with concurrent.futures.ThreadPoolExecutor(8) as pool:
    results = list(pool.map(fetch, range(200)))
print("responses:", len(results), "all 200:", all(code == 200 for code, _ in results))
print("paths in order:", [p for _, p in results] == [f"/item/{n}" for n in range(200)])
server.shutdown()
server.server_close()
print("shut down")
