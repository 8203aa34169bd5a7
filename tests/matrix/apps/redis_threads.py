"""redis-py from threads against a redis-server on argv[1]: a pooled client
shared by 8 threads (INCR, SET/GET), a pipeline, and pub/sub received by a
listener thread."""
import concurrent.futures
import sys
import threading

import redis

r = redis.Redis(host="127.0.0.1", port=int(sys.argv[1]), socket_timeout=10)
r.flushall()


def work(n):
    r.incr("counter")
    r.set(f"key:{n}", n * n)
    return int(r.get(f"key:{n}"))


with concurrent.futures.ThreadPoolExecutor(8) as pool:
    squares = list(pool.map(work, range(200)))
print("counter:", int(r.get("counter")), "squares right:", squares == [n * n for n in range(200)])
with r.pipeline() as pipe:
    print("pipeline:", pipe.set("a", 1).incr("a").get("a").execute())

pubsub = r.pubsub()
pubsub.subscribe("news")
received, done = [], threading.Event()


def listen():
    for message in pubsub.listen():
        if message["type"] == "message":
            received.append(message["data"].decode())
            if len(received) == 5:
                done.set()
                return


listener = threading.Thread(target=listen)
listener.start()
for i in range(5):
    while r.publish("news", f"item {i}") == 0:
        pass  # until the subscription is live
print("pub/sub:", done.wait(10), received)
listener.join(10)
pubsub.close()
r.close()
