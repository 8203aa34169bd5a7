import atexit
import sys


def first():
    print("first registered, runs last")


def second(arg, *, kw):
    print("second", arg, kw)


def failing():
    raise RuntimeError("atexit failure")


atexit.register(first)
atexit.register(second, 1, kw=2)
atexit.register(failing)
print("main body")
sys.exit(4)
