"""Name resolution inside the hub: python3's results and errors, lookups
that leave the hub running, and against a slow DNS server (0.3 s an
answer), in a private network and mount namespace so that nothing leaves
this machine: a burst of lookups runs at once once the pool is warm, and
reverse lookups (getnameinfo holds the GIL in CPython 3.11) leave the hub
running."""
import json
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

import theframework as tf
from conftest import MAX_TICK_GAP, TICKER, TFPYTHON

HELPERS = Path(__file__).parent / "helpers"

SETUP = f"""
import os, subprocess, sys
conf = sys.argv[1]
with open(conf + "/resolv.conf", "w") as f:
    f.write("nameserver 127.0.0.1\\noptions attempts:1 timeout:5\\n")
with open(conf + "/nsswitch.conf", "w") as f:
    f.write("hosts: dns\\n")
subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
for name in ("resolv.conf", "nsswitch.conf"):
    subprocess.run(["mount", "--bind", conf + "/" + name, "/etc/" + name], check=True)
server = subprocess.Popen(["/usr/bin/python3.11", {str(HELPERS / "slow_dns.py")!r}, "0.3"], stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL)
server.stdout.readline()
import atexit
atexit.register(server.kill)
"""


def test_dns_errors_are_python3s(in_hub):
    with pytest.raises(socket.gaierror):
        socket.getaddrinfo("no-such-host.invalid", 80)
    with pytest.raises((socket.herror, socket.gaierror)):
        socket.gethostbyaddr("203.0.113.255")
    assert socket.getaddrinfo("127.0.0.1", 80)[0][4] == ("127.0.0.1", 80)
    assert socket.gethostbyname("localhost") == "127.0.0.1"
    assert socket.getnameinfo(("127.0.0.1", 80), socket.NI_NUMERICHOST | socket.NI_NUMERICSERV) == ("127.0.0.1", "80")


def test_many_getaddrinfo_calls_do_not_stall_a_ticker(in_hub):
    gaps = []

    def ticker():
        last = time.monotonic()
        for _ in range(20):
            time.sleep(0.01)
            now = time.monotonic()
            gaps.append(now - last)
            last = now
    t = tf.spawn(ticker)
    gs = [tf.spawn(socket.getaddrinfo, "localhost", 80) for _ in range(100)]
    tf.joinall(gs)
    t.join()
    assert all(g.successful() for g in gs)
    assert len(gaps) == 20 and max(gaps) <= MAX_TICK_GAP, gaps


def run_in_namespace(body, tmp_path):
    if os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("ip"):
        pytest.skip("needs root, unshare and ip for a private network namespace")
    probe = subprocess.run(["unshare", "--mount", "--net", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("namespaces are refused here: " + probe.stderr.decode().strip())
    r = subprocess.run(["unshare", "--mount", "--net", TFPYTHON, "-c", SETUP + TICKER + body, str(tmp_path)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.splitlines()[-1])


def test_a_burst_of_lookups_runs_at_once_after_warm_up(tmp_path):
    out = run_in_namespace("""
import json, socket, time
import theframework as tf

def burst(tag):
    start = time.monotonic()
    lookups = [tf.spawn(socket.getaddrinfo, "%s%d.test" % (tag, i), 80, socket.AF_INET) for i in range(4)]
    tf.joinall(lookups)
    assert all(g.value[0][4] == ("127.0.0.9", 80) for g in lookups), [g.exception for g in lookups]
    return time.monotonic() - start

cold = burst("cold")
ticker_start()
warm = burst("warm")
print(json.dumps([cold, warm, ticker_stop()]))
""", tmp_path)
    cold, warm, (ticks, gap) = out
    assert warm < 0.6 * 2, (cold, warm)  # serialised it was 1.5 s; < 0.6 s on a quiet machine
    assert ticks >= 10 and gap <= MAX_TICK_GAP, (ticks, gap)  # a frozen hub ticks never


@pytest.mark.parametrize("call, expected", [
    ("socket.getnameinfo(('127.0.0.9', 80), 0)", ["slow.test", "http"]),
    ("socket.gethostbyaddr('127.0.0.9')", ["slow.test", [], ["127.0.0.9"]]),
    ("socket.getfqdn('127.0.0.9')", "slow.test"),
])
def test_a_slow_reverse_lookup_leaves_the_hub_running(call, expected, tmp_path):
    out = run_in_namespace(f"""
import json, socket
ticker_start()
result = {call}
print(json.dumps([result, ticker_stop()]))
""", tmp_path)
    result, (ticks, gap) = out
    assert result == expected
    assert ticks >= 10 and gap <= MAX_TICK_GAP, (ticks, gap)


def test_getnameinfo_errors_are_python3s(in_hub):
    import socket
    cases = [(("127.0.0.1", 80), "x"), ("127.0.0.1", 0), (("127.0.0.1",), 0), (("127.0.0.1", 80, 1), 0),
             (("::1", 80, 0x100000, 0), 0), (("bad host", 80), 0), (("127.0.0.1", 80), socket.NI_NUMERICHOST)]
    from theframework.monkey import get_original
    original = get_original("socket", "getnameinfo")
    for args in cases:
        def outcome(fn):
            try:
                return fn(*args)
            except Exception as e:
                return type(e), str(e)
        assert outcome(socket.getnameinfo) == outcome(original), args
