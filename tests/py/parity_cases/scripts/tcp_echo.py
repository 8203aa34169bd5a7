# A TCP echo: the server in a thread, the client in the main program; then
# the other way round.
import socket
import threading


def serve(srv):
    conn, _ = srv.accept()
    with conn:
        while data := conn.recv(1024):
            conn.sendall(data.upper())


def client(port):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as c:
        c.sendall(b"hello world")
        c.shutdown(socket.SHUT_WR)
        chunks = []
        while d := c.recv(4):
            chunks.append(d)
    return b"".join(chunks)


srv = socket.create_server(("127.0.0.1", 0))
t = threading.Thread(target=serve, args=(srv,))
t.start()
print("client in main:", client(srv.getsockname()[1]))
t.join()
srv.close()

srv = socket.create_server(("127.0.0.1", 0))
results = []
t = threading.Thread(target=lambda: results.append(client(srv.getsockname()[1])))
t.start()
serve(srv)
t.join()
srv.close()
print("server in main:", results)
print(repr(srv))
