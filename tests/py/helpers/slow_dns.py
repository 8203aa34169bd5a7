"""A DNS server for tests, on 127.0.0.1:53 inside a private network
namespace: every answer comes after DELAY seconds, each query on a thread
of its own (so a burst is answered in DELAY, not DELAY x N).
  A    *.test          -> 127.0.0.9
  PTR  9.0.0.127.in-addr.arpa -> slow.test
anything else: NOERROR with no answer. Run: python3 slow_dns.py DELAY"""
import socket
import struct
import sys
import threading
import time


def _name(data, offset):
    labels = []
    while data[offset]:
        n = data[offset]
        labels.append(data[offset + 1:offset + 1 + n].decode())
        offset += 1 + n
    return ".".join(labels), offset + 1


def _encode(name):
    return b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\x00"


def answer(query):
    ident, flags = struct.unpack("!HH", query[:4])
    name, end = _name(query, 12)
    qtype, _qclass = struct.unpack("!HH", query[end:end + 4])
    question = query[12:end + 4]
    records = b""
    if qtype == 1 and name.endswith(".test"):
        records = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + socket.inet_aton("127.0.0.9")
    elif qtype == 12 and name == "9.0.0.127.in-addr.arpa":
        target = _encode("slow.test")
        records = b"\xc0\x0c" + struct.pack("!HHIH", 12, 1, 60, len(target)) + target
    count = 1 if records else 0
    header = struct.pack("!HHHHHH", ident, 0x8180 | (flags & 0x0100), 1, count, 0, 0)
    return header + question + records


def main():
    delay = float(sys.argv[1])
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 53))
    print("ready", flush=True)

    def reply(query, peer):
        time.sleep(delay)
        sock.sendto(answer(query), peer)
    while True:
        query, peer = sock.recvfrom(512)
        threading.Thread(target=reply, args=(query, peer), daemon=True).start()


if __name__ == "__main__":
    main()
