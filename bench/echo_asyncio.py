"""Echo server: asyncio streams, optionally on uvloop.

    echo_asyncio.py [--uvloop] [PORT]

One ``asyncio.start_server`` callback per connection looping
``reader.read(64)`` / ``writer.write`` + ``drain``. asyncio (and uvloop) set
TCP_NODELAY on TCP transports themselves. Runs until killed.
"""
import asyncio
import sys

import benchutil


async def handle(reader, writer):
    read, write, drain = reader.read, writer.write, writer.drain
    try:
        while True:
            data = await read(64)
            if not data:
                break
            write(data)
            await drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


async def serve(port, loop_name):
    server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=1024)
    benchutil.announce(server.sockets[0].getsockname()[1], loop=loop_name)
    async with server:
        await server.serve_forever()


def main():
    args = sys.argv[1:]
    loop_name = "asyncio"
    if args and args[0] == "--uvloop":
        import uvloop
        uvloop.install()
        loop_name = "uvloop"
        args = args[1:]
    port = int(args[0]) if args else 0
    asyncio.run(serve(port, loop_name))


if __name__ == "__main__":
    main()
