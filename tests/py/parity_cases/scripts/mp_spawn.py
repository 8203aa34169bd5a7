import multiprocessing
import sys


def square(x):
    return x * x


if __name__ == "__main__":
    for method in ("fork", "spawn", "forkserver"):
        ctx = multiprocessing.get_context(method)
        with ctx.Pool(2) as pool:
            print(method, pool.map(square, range(5)))
        p = ctx.Process(target=sys.exit, args=(3,))
        p.start()
        p.join()
        print(method, "child exit code", p.exitcode)
