import os
import select
import traceback

r, w = os.pipe()
attempts = {
    "select bad fd": lambda: select.select([12345], [], [], 0),
    "select negative fd": lambda: select.select([-1], [], [], 0),
    "select fd too big": lambda: select.select([5000], [], [], 0),
    "select not a list": lambda: select.select(r, [], [], 0),
    "select str item": lambda: select.select(["x"], [], [], 0),
    "select negative timeout": lambda: select.select([r], [], [], -1),
    "select nan timeout": lambda: select.select([r], [], [], float("nan")),
    "select str timeout": lambda: select.select([r], [], [], "1"),
    "select huge timeout": lambda: select.select([r], [], [], 1e300),
    "select inf timeout": lambda: select.select([r], [], [], float("inf")),
    "select 2 args": lambda: select.select([r], []),
    "select kwargs": lambda: select.select(rlist=[r], wlist=[], xlist=[]),
    "poll register bad": lambda: select.poll().register("x"),
    "poll register negative": lambda: select.poll().register(-1),
    "poll modify unregistered": lambda: select.poll().modify(r, select.POLLIN),
    "poll unregister unregistered": lambda: select.poll().unregister(r),
    "poll timeout str": lambda: select.poll().poll("x"),
    "poll timeout huge": lambda: select.poll().poll(2 ** 70),
    "poll timeout float": lambda: select.poll().poll(0.5),
    "poll() args": lambda: select.poll(1),
}
for name, attempt in attempts.items():
    try:
        result = attempt()
    except Exception as exc:
        print(f"{name:30}", traceback.format_exception_only(exc)[-1], end="")
    else:
        print(f"{name:30}", "returned", repr(result))
