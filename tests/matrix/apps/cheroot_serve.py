"""cheroot's WSGI server (CherryPy's) with 4 worker threads on argv[1]."""
import sys

from cheroot import wsgi

from wsgi_app import app

server = wsgi.Server(("127.0.0.1", int(sys.argv[1])), app, numthreads=4)
try:
    server.start()
except KeyboardInterrupt:
    server.stop()
