import inspect
import sys
import traceback


def inner():
    traceback.print_stack(file=sys.stdout)
    print("inspect.stack depth", len(inspect.stack()))
    frame, depth = sys._getframe(), 0
    while frame is not None:
        frame, depth = frame.f_back, depth + 1
    print("frame depth", depth)


inner()
