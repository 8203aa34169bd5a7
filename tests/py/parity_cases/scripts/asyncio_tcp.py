import asyncio
import selectors


async def handle(reader, writer):
    data = await reader.readline()
    writer.write(data.upper())
    await writer.drain()
    writer.close()
    await writer.wait_closed()


async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"asyncio over tcp\n")
    print(await reader.readline())
    writer.close()
    await writer.wait_closed()
    server.close()
    await server.wait_closed()
    try:
        await asyncio.open_connection("127.0.0.1", 1)
    except ConnectionRefusedError as exc:
        print("refused", exc)
    proc = await asyncio.create_subprocess_exec("echo", "from a subprocess",
                                                stdout=asyncio.subprocess.PIPE)
    out, _ = await proc.communicate()
    print(out, proc.returncode)
    results = await asyncio.gather(*(asyncio.sleep(d, result=d) for d in (0.03, 0.01, 0.02)))
    print(results)


asyncio.run(main())
