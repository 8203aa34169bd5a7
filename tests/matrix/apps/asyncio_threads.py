"""asyncio with event loops in several threads: a TCP echo server on a loop
in one thread, clients on loops in others, coroutines handed across with
run_coroutine_threadsafe, work sent to executors and back. Prints what each
part saw, in a fixed order."""
import asyncio
import concurrent.futures
import threading


def serve(ready, stop_holder):
    async def handle(reader, writer):
        while data := await reader.readline():
            writer.write(data.upper())
            await writer.drain()
        writer.close()

    async def main():
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        stop = asyncio.Event()
        stop_holder.append((asyncio.get_running_loop(), stop))
        ready.put(server.sockets[0].getsockname()[1])
        async with server:
            await stop.wait()
    asyncio.run(main())


def client(port, name, results):
    async def main():
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            raise AssertionError("no loop inside asyncio.run")
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        lines = []
        for i in range(3):
            writer.write(f"{name} {i}\n".encode())
            await writer.drain()
            lines.append((await reader.readline()).decode().strip())
        writer.close()
        await writer.wait_closed()
        in_executor = await asyncio.get_running_loop().run_in_executor(None, lambda: name * 2)
        in_thread = await asyncio.to_thread(lambda: threading.current_thread().name != name)
        return lines, in_executor, in_thread
    results[name] = asyncio.run(main())


def main():
    import queue
    ready, stop_holder = queue.Queue(), []
    server = threading.Thread(target=serve, args=(ready, stop_holder), name="server")
    server.start()
    port = ready.get(timeout=10)
    try:
        asyncio.get_running_loop()
        print("main: a running loop leaked from the server thread")
    except RuntimeError as e:
        print("main:", e)
    results = {}
    clients = [threading.Thread(target=client, args=(port, f"c{n}", results), name=f"c{n}") for n in range(4)]
    for t in clients:
        t.start()
    for t in clients:
        t.join()
    for name in sorted(results):
        print(name, results[name])
    loop, stop = stop_holder[0]

    async def loop_name():
        return asyncio.get_running_loop() is loop
    print("run_coroutine_threadsafe:", asyncio.run_coroutine_threadsafe(loop_name(), loop).result(10))
    loop.call_soon_threadsafe(stop.set)
    server.join()
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        print("loops in a pool:", sorted(pool.map(lambda n: asyncio.run(asyncio.sleep(0.01, n)), range(6))))
    policy_loop = asyncio.new_event_loop()
    asyncio.set_event_loop(policy_loop)
    seen = []
    t = threading.Thread(target=lambda: seen.append(repr(asyncio.get_event_loop_policy()._local._loop)))
    t.start()
    t.join()
    print("a thread's policy loop before set_event_loop:", seen)
    policy_loop.close()


if __name__ == "__main__":
    main()
