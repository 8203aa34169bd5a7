"""psycopg2 through its documented hook for coroutine libraries
(psycopg2.extensions.set_wait_callback): with a wait callback set, libpq
runs in non-blocking mode and psycopg2 calls the callback whenever the
connection would block; ours waits for the connection's socket on the hub.
Outside the hub (a real OS thread) it blocks in poll(), as libpq would.

psycopg2's own rule for connections with a wait callback: an exception
raised while waiting (a Timeout, a kill, KeyboardInterrupt) closes the
connection; the query it ran is cancelled on the server first."""
from theframework._core import core

_POLLIN, _POLLOUT = 0x001, 0x004


def wait_callback(conn):
    from psycopg2.extensions import POLL_OK, POLL_READ, POLL_WRITE
    while True:
        state = conn.poll()
        if state == POLL_OK:
            return
        if state not in (POLL_READ, POLL_WRITE):
            raise conn.OperationalError("bad state from poll: %r" % (state,))
        try:
            _wait(conn.fileno(), _POLLIN if state == POLL_READ else _POLLOUT)
        except BaseException:
            try:
                conn.cancel()
            except Exception:
                pass
            raise


def _wait(fileno, mask):
    if core.hub_is_running():
        (core.wait_readable if mask == _POLLIN else core.wait_writable)(fileno)
        return
    from theframework.monkey import get_original
    poller = get_original("select", "poll")()
    poller.register(fileno, mask)
    poller.poll()


def install(extensions):
    """Sets our wait callback unless the program set one already."""
    if extensions.get_wait_callback() is None:
        extensions.set_wait_callback(wait_callback)
