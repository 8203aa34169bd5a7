"""signal under the hub (monkey/signal.py, monkey/_signal.py,
cooperative_signal.py): pause() waits on the hub while other greenlets and
threads run; a Python handler runs promptly."""
import json
import signal
import time

from conftest import MAX_TICK_GAP, TICKER, run_tfpython, start_blocked


def test_signal_pause_returns_after_a_handler_and_the_hub_runs_meanwhile():
    r = run_tfpython(TICKER + """
import json, os, signal, threading, time
got = []
signal.signal(signal.SIGUSR1, lambda signum, frame: got.append(signum))
threading.Thread(target=lambda: (time.sleep(0.3), os.kill(os.getpid(), signal.SIGUSR1))).start()
ticker_start()
result = signal.pause()
print(json.dumps([result, got, ticker_stop()]))
""")
    assert r.returncode == 0, r.stderr
    result, got, (ticks, gap) = json.loads(r.stdout.splitlines()[-1])
    assert result is None and got == [10]
    assert ticks >= 10 and gap <= MAX_TICK_GAP, (ticks, gap)


def test_server_thread_then_signal_pause_serves_requests():
    # The common program: start the server thread, then pause() in main.
    r = run_tfpython("""
import http.server, os, signal, socketserver, threading, urllib.request
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
threading.Thread(target=server.serve_forever, daemon=True).start()
def client():
    with urllib.request.urlopen("http://127.0.0.1:%d/" % server.server_port) as resp:
        print("status", resp.status)
    os.kill(os.getpid(), signal.SIGTERM)
signal.signal(signal.SIGTERM, lambda *a: print("stopping"))
threading.Thread(target=client).start()
signal.pause()
print("paused until the handler ran")
""", timeout=30)
    assert r.stdout == "status 200\nstopping\npaused until the handler ran\n", r.stderr


def test_python_signal_handler_runs_promptly_while_the_hub_waits(tmp_path):
    p = start_blocked(
        "import signal, sys, time\n"
        "def on_term(signum, frame):\n"
        "    print('handled', signum, flush=True)\n"
        "    sys.exit(9)\n"
        "signal.signal(signal.SIGTERM, on_term)\n"
        "print('ready', flush=True)\n"
        "time.sleep(30)\n", tmp_path)
    t0 = time.monotonic()
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=10)
    assert time.monotonic() - t0 < 5
    assert out == "handled %d\n" % signal.SIGTERM
    assert p.returncode == 9, err
