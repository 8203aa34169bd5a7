"""TLS echo server: stdlib ssl, one threading.Thread per connection.

    echo_tls_threads.py CERTFILE KEYFILE [PORT]

echo_threads.py over TLS: listens on 127.0.0.1:PORT (0 or absent: any free
port), prints one JSON line announcing the port, then for each connection
starts a thread that wraps it with ``SSLContext.wrap_socket`` (the handshake
happens in that thread) and loops recv(64) / sendall until the peer closes.
The sockets stay in blocking mode, as in most thread-per-connection code.
Under python3.11 these are OS threads; under ``python3.11 -m gevent.monkey``
the same file runs them as greenlets, under tfpython as fibers. Runs until
killed.
"""
import socket
import ssl
import sys
import threading

import benchutil


def handle(context, conn):
    try:
        tls = context.wrap_socket(conn, server_side=True)
    except OSError:  # a client that went away mid-handshake
        conn.close()
        return
    with tls:
        recv, sendall = tls.recv, tls.sendall
        while True:
            try:
                data = recv(64)
            except OSError:
                return
            if not data:
                return
            sendall(data)


def main():
    certfile, keyfile = sys.argv[1], sys.argv[2]
    port = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certfile, keyfile)
    server = benchutil.listen(port)
    benchutil.announce(server.getsockname()[1], tls=ssl.OPENSSL_VERSION)
    while True:
        conn, _ = server.accept()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=handle, args=(context, conn), daemon=True).start()


if __name__ == "__main__":
    main()
