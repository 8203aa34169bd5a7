"""Processes fed from threads: a ProcessPoolExecutor driven by a thread
pool, a multiprocessing.Pool with imap and callbacks, and a Queue read by
a thread while the main thread joins a Process."""
import concurrent.futures
import multiprocessing
import threading


def square(n):
    return n * n


def produce(q, n):
    for i in range(n):
        q.put(i)
    q.put(None)


def main():
    with concurrent.futures.ProcessPoolExecutor(2) as processes, \
            concurrent.futures.ThreadPoolExecutor(4) as threads:
        futures = [threads.submit(lambda n=n: processes.submit(square, n).result(30)) for n in range(40)]
        print("executor:", sum(f.result(60) for f in futures))
    with multiprocessing.Pool(2) as pool:
        print("pool imap:", list(pool.imap(square, range(10))))
        done = threading.Event()
        got = []
        pool.map_async(square, range(5), callback=lambda r: (got.extend(r), done.set()))
        print("pool callback:", done.wait(30), got)
    q = multiprocessing.Queue()
    seen = []
    reader = threading.Thread(target=lambda: seen.extend(iter(q.get, None)))
    reader.start()
    p = multiprocessing.Process(target=produce, args=(q, 100))
    p.start()
    p.join(30)
    reader.join(30)
    print("queue:", p.exitcode, len(seen), seen[:3], seen[-1])


if __name__ == "__main__":
    main()
