"""Database drivers without freezing the hub: psycopg2 (C, through its
wait-callback hook, set when it is imported), psycopg 3 (its waits go
through select/selectors) and PyMySQL (pure Python sockets), each against
a real server: PostgreSQL started by the test in a temporary directory, and
for PyMySQL a small server speaking the MySQL protocol."""
import glob
import os
import shutil
import socket
import struct
import subprocess
import tempfile
import threading
import time

import pytest

from conftest import MAX_TICK_GAP

PG_BIN = sorted(glob.glob("/usr/lib/postgresql/*/bin"))


def _as_postgres_user():
    """Command prefix that runs a PostgreSQL program as a non-root user
    (initdb and postgres refuse root)."""
    if os.geteuid() != 0:
        return []
    return ["runuser", "-u", "postgres", "--"]


@pytest.fixture(scope="module")
def postgres():
    if not PG_BIN:
        pytest.skip("PostgreSQL is not installed (packaging/install-deps.sh installs it)")
    bin_dir = PG_BIN[-1]
    data = tempfile.mkdtemp(prefix="tf-pg-", dir="/tmp")
    if os.geteuid() == 0:
        shutil.chown(data, "postgres", "postgres")
    prefix = _as_postgres_user()
    subprocess.run(prefix + [f"{bin_dir}/initdb", "-D", f"{data}/db", "-U", "postgres", "--auth=trust",
                           "-E", "UTF8", "--no-sync"], check=True, capture_output=True)
    server = subprocess.Popen(prefix + [f"{bin_dir}/postgres", "-D", f"{data}/db", "-k", data,
                                        "-c", "listen_addresses=", "-c", "fsync=off"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while not os.path.exists(f"{data}/.s.PGSQL.5432"):
            if time.monotonic() > deadline or server.poll() is not None:
                pytest.fail("PostgreSQL did not start")
            time.sleep(0.05)
        time.sleep(0.2)
        yield f"host={data} user=postgres dbname=postgres"
    finally:
        server.terminate()
        server.wait(30)
        shutil.rmtree(data, ignore_errors=True)


def test_psycopg2_gets_our_wait_callback_when_imported():
    psycopg2 = pytest.importorskip("psycopg2")
    from theframework.green_psycopg2 import wait_callback
    assert psycopg2.extensions.get_wait_callback() is wait_callback


def _concurrently(n, fn):
    results = [None] * n
    errors = []

    def run(i):
        try:
            results[i] = fn()
        except BaseException as e:  # reported below
            errors.append(e)
    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    return results, time.monotonic() - start


def test_psycopg2_ten_queries_run_together_and_the_hub_keeps_going(postgres, ticker):
    psycopg2 = pytest.importorskip("psycopg2")

    def query():
        with psycopg2.connect(postgres) as conn, conn.cursor() as cur:
            cur.execute("SELECT pg_sleep(0.3), %s::int", (7,))
            return cur.fetchone()[1]
    query()  # the first connection warms the server
    with ticker:
        results, elapsed = _concurrently(10, query)
    assert results == [7] * 10
    assert elapsed < 0.6 * 3, elapsed  # serial would be 3 s; the bench measures speed
    assert ticker.largest_gap <= MAX_TICK_GAP, ticker.gaps


def test_psycopg2_errors_and_transactions_are_unchanged(postgres, in_hub):
    psycopg2 = pytest.importorskip("psycopg2")
    conn = psycopg2.connect(postgres)
    try:
        cur = conn.cursor()
        with pytest.raises(psycopg2.errors.UndefinedTable):
            cur.execute("SELECT * FROM no_such_table")
        conn.rollback()
        cur.execute("CREATE TEMP TABLE t (x int)")
        cur.executemany("INSERT INTO t VALUES (%s)", [(i,) for i in range(5)])
        cur.execute("SELECT sum(x) FROM t")
        assert cur.fetchone() == (10,)
        conn.commit()
    finally:
        conn.close()


def test_psycopg2_from_a_real_thread_blocks_that_thread_only(postgres, in_hub):
    psycopg2 = pytest.importorskip("psycopg2")
    from theframework.monkey import get_original
    out = []

    def query():
        with psycopg2.connect(postgres) as conn, conn.cursor() as cur:
            cur.execute("SELECT 41 + 1")
            out.append(cur.fetchone()[0])
    t = get_original("threading", "Thread")(target=query)
    t.start()
    t.join()
    assert out == [42]


def test_psycopg2_query_cancelled_by_a_timeout(postgres, in_hub):
    psycopg2 = pytest.importorskip("psycopg2")
    import theframework as tf
    conn = psycopg2.connect(postgres)
    start = time.monotonic()
    with pytest.raises(tf.Timeout):
        with tf.Timeout(0.2):
            conn.cursor().execute("SELECT pg_sleep(5)")
    assert time.monotonic() - start < 2
    assert conn.closed  # psycopg2 closes a connection whose wait raised


def test_psycopg3_queries_run_together_and_the_hub_keeps_going(postgres, ticker):
    psycopg = pytest.importorskip("psycopg")

    def query():
        with psycopg.connect(postgres) as conn:
            return conn.execute("SELECT pg_sleep(0.3), 7").fetchone()[1]
    query()
    with ticker:
        results, elapsed = _concurrently(5, query)
    assert results == [7] * 5
    assert elapsed < 0.3 * 5, elapsed
    assert ticker.largest_gap <= MAX_TICK_GAP, ticker.gaps


# ---------------------------------------------------------------- PyMySQL --
# The least of the MySQL protocol PyMySQL needs: a handshake, an OK for its
# login, and for a query a one-column text result, sent after a delay.

def _packet(seq, payload):
    return struct.pack("<I", len(payload))[:3] + bytes([seq]) + payload


def _lenenc(b):
    return bytes([len(b)]) + b


def _read_packet(conn):
    head = b""
    while len(head) < 4:
        head += conn.recv(4 - len(head))
    size = int.from_bytes(head[:3], "little")
    body = b""
    while len(body) < size:
        body += conn.recv(size - len(body))
    return head[3], body


def _mysql_server(listener, delay):
    capabilities = 0x0000_0200 | 0x0000_8000 | 0x0008_0000 | 0x0000_0001 | 0x0000_0008  # 4.1, secure, plugin
    greeting = (b"\x0a" + b"5.7.0-fake\x00" + struct.pack("<I", 1) + b"abcdefgh\x00"
                + struct.pack("<H", capabilities & 0xFFFF) + b"\x21" + struct.pack("<H", 2)
                + struct.pack("<H", capabilities >> 16) + b"\x15" + b"\x00" * 10 + b"ijklmnopqrst\x00"
                + b"mysql_native_password\x00")
    ok = b"\x00\x00\x00\x02\x00\x00\x00"
    eof = b"\xfe\x00\x00\x02\x00"
    while True:
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        with conn:
            conn.sendall(_packet(0, greeting))
            seq, _ = _read_packet(conn)
            conn.sendall(_packet(seq + 1, ok))
            while True:
                try:
                    seq, body = _read_packet(conn)
                except (OSError, IndexError):
                    break
                if not body or body[0] == 0x01:  # COM_QUIT
                    break
                if body[0] != 0x03 or not body[1:].upper().startswith(b"SELECT"):  # SET ...: OK
                    conn.sendall(_packet(seq + 1, ok))
                    continue
                time.sleep(delay)
                column = (_lenenc(b"def") + _lenenc(b"") + _lenenc(b"") + _lenenc(b"") + _lenenc(b"x")
                          + _lenenc(b"") + b"\x0c" + struct.pack("<HIBHB", 63, 1, 0x08, 0, 0) + b"\x00\x00")
                conn.sendall(_packet(seq + 1, b"\x01") + _packet(seq + 2, column) + _packet(seq + 3, eof)
                             + _packet(seq + 4, _lenenc(b"7")) + _packet(seq + 5, eof))


def test_pymysql_waits_on_the_hub(ticker):
    pymysql = pytest.importorskip("pymysql")
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = threading.Thread(target=_mysql_server, args=(listener, 0.3), daemon=True)
    server.start()

    def query():
        conn = pymysql.connect(host="127.0.0.1", port=port, user="u", password="p")
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT SLEEP(0.3)")
                return cur.fetchone()[0]
        finally:
            conn.close()
    try:
        with ticker:
            start = time.monotonic()
            assert query() == 7
            elapsed = time.monotonic() - start
        assert elapsed >= 0.3
        assert ticker.largest_gap <= MAX_TICK_GAP, ticker.gaps
    finally:
        listener.close()
