"""os.read/os.write with bad fds and arguments: python3's exceptions."""
import os

r, w = os.pipe()
os.close(w)
cases = [
    ("read -1", lambda: os.read(-1, 1)),
    ("write -1", lambda: os.write(-1, b"x")),
    ("read closed", lambda: os.read(w, 1)),
    ("read huge fd", lambda: os.read(2 ** 40, 1)),
    ("read str fd", lambda: os.read("3", 1)),
    ("write read-end", lambda: os.write(r, b"x")),
    ("read negative length", lambda: os.read(r, -1)),
    ("read eof", lambda: os.read(r, 5)),
]
for name, call in cases:
    try:
        print(name, "->", repr(call()))
    except Exception as exc:
        print(name, "->", type(exc).__name__, exc)
