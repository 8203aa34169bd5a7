import os
import selectors
import socket
import threading

sel = selectors.DefaultSelector()
a, b = socket.socketpair()
r, w = os.pipe()
sel.register(a, selectors.EVENT_READ, "socket")
sel.register(r, selectors.EVENT_READ, "pipe")
print("nothing yet", sel.select(0))
threading.Timer(0.1, b.send, (b"x",)).start()
events = sel.select(5)
print("ready", [(key.data, mask) for key, mask in events])
os.write(w, b"y")
print("both", sorted(key.data for key, mask in sel.select(1)))
sel.modify(a, selectors.EVENT_READ | selectors.EVENT_WRITE, "socket rw")
print("modified", sorted((key.data, mask) for key, mask in sel.select(0)))
sel.unregister(a)
print("keys", sorted(k.data for k in sel.get_map().values()))
print("timeout", sel.select(0.05) != [])
try:
    sel.register(r, selectors.EVENT_READ)
except KeyError as exc:
    print("KeyError", exc)
try:
    sel.register(a, 0)
except ValueError as exc:
    print("ValueError", exc)
sel.close()
for cls in ("SelectSelector", "PollSelector"):
    s = getattr(selectors, cls)()
    s.register(r, selectors.EVENT_READ)
    print(cls, [mask for key, mask in s.select(0)])
    s.close()
