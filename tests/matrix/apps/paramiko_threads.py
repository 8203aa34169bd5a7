"""paramiko: an SSH server (a Transport thread per connection) and 4 SSH
clients in threads, on loopback; each client runs a command over a
channel and reads its answer and exit status."""
import concurrent.futures
import socket
import threading

import paramiko

HOST_KEY = paramiko.RSAKey.generate(1024)


class Server(paramiko.ServerInterface):
    def __init__(self):
        self.command = None
        self.asked = threading.Event()

    def check_auth_password(self, username, password):
        return paramiko.AUTH_SUCCESSFUL if password == "secret" else paramiko.AUTH_FAILED

    def get_allowed_auths(self, username):
        return "password"

    def check_channel_request(self, kind, chanid):
        return paramiko.OPEN_SUCCEEDED if kind == "session" else paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED

    def check_channel_exec_request(self, channel, command):
        self.command = command
        self.asked.set()
        return True


listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen()
port = listener.getsockname()[1]
transports = []


def answer(transport, server):
    channel = transport.accept(10)
    server.asked.wait(10)
    channel.sendall(server.command.upper() + b"\n")
    channel.send_exit_status(len(server.command))
    channel.close()


def serve():
    for _ in range(4):
        conn, _ = listener.accept()
        t = paramiko.Transport(conn)
        t.add_server_key(HOST_KEY)
        server = Server()
        t.start_server(server=server)
        transports.append(t)
        threading.Thread(target=answer, args=(t, server)).start()


threading.Thread(target=serve, daemon=True).start()


def client(n):
    c = paramiko.SSHClient()
    c.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    c.connect("127.0.0.1", port, username=f"user{n}", password="secret", look_for_keys=False,
              allow_agent=False, timeout=10)
    _, stdout, _ = c.exec_command(f"echo {n}", timeout=10)
    out = stdout.read().decode().strip()
    status = stdout.channel.recv_exit_status()
    c.close()
    return out, status


with concurrent.futures.ThreadPoolExecutor(4) as pool:
    print(list(pool.map(client, range(4))))
for t in transports:
    t.close()
listener.close()
