import sys


def depth(n=0):
    try:
        return depth(n + 1)
    except RecursionError:
        return n


print("limit", sys.getrecursionlimit(), "reached", depth())


def forever():
    return forever()


forever()
