"""restore(): the standard library exactly as python3 has it, whether a
module was imported before patching (its attributes are the very objects
they were) or while patched (it compares equal to a fresh python3's), and
patch_all() again after it. Plain python3 with theframework importable,
the way a program that keeps python3 uses the monkey API."""
import json
import textwrap

from conftest import run_python, run_tfpython

# Every module patch_all() patches or accelerate() accelerates, imported;
# and a program that uses each on the hub (threads, locks, sockets,
# selectors, a pipe read through FileIO, an epoll wait, a signal handler, a
# queue) before restore().
COMMON = textwrap.dedent("""
    import importlib, json, sys, types
    from theframework import accel, monkey, hub
    import theframework, _framework_core

    MODULES = [m for m in monkey.PATCH_MODULES if m != "psycopg2" or importlib.util.find_spec(m)]
    MODULES += accel.ACCELERATED
    OURS = {v for v in vars(_framework_core).values() if isinstance(v, type)}

    def changed_by_us(name):
        return monkey.is_module_patched(name) or accel.is_accelerated(name)

    def use_everything():
        import os, queue, select, selectors, signal, socket, threading, time
        assert _framework_core.hub_is_running()
        a, b = socket.socketpair()
        t = threading.Thread(target=lambda: b.sendall(b"x"))
        t.start()
        assert a.recv(1) == b"x"
        t.join()
        with selectors.DefaultSelector() as s:
            s.register(a, selectors.EVENT_READ)
            b.send(b"y")
            assert s.select(1)
        r, w = os.pipe()
        t = threading.Thread(target=os.write, args=(w, b"z"))
        t.start()
        assert open(r, "rb", buffering=0, closefd=False).read(1) == b"z"
        t.join()
        ep = select.epoll()
        ep.register(r, select.EPOLLIN)
        assert ep.poll(0.01) == []
        ep.close()
        q = queue.SimpleQueue()
        t = threading.Thread(target=q.put, args=(1,))
        t.start()
        assert q.get(timeout=1) == 1
        t.join()
        signal.signal(signal.SIGUSR1, handler)
        time.sleep(0.01)
        for fd in (r, w):
            os.close(fd)
        a.close()
        b.close()

    def handler(signum, frame):
        pass

    def run_patched():
        # The program's greenlet is the main thread, as under the -m entry
        # point (whose _program_finished() is threading's shutdown, at exit).
        def program():
            theframework._program_started()
            use_everything()
        hub.run(program)

    def fingerprint(value):
        kind = type(value)
        text = "%s.%s" % (kind.__module__, kind.__qualname__) + (" (ours)" if kind in OURS else "")
        if isinstance(value, (type, types.FunctionType, types.BuiltinFunctionType)) or callable(value):
            text += " %s.%s" % (getattr(value, "__module__", None), getattr(value, "__qualname__", None))
        return text

    def fingerprints():
        found = {}
        for name in MODULES:
            module = sys.modules[name]
            for attribute, value in vars(module).items():
                found["%s.%s" % (name, attribute)] = fingerprint(value)
                if isinstance(value, type) and value.__module__ == name:
                    for key, item in vars(value).items():
                        found["%s.%s.%s" % (name, attribute, key)] = fingerprint(item)
        return found
""")


def test_modules_imported_before_patching_get_their_very_objects_back():
    r = run_python(COMMON + textwrap.dedent("""
        for name in MODULES:
            importlib.import_module(name)

        def objects():
            found = {}
            for name in MODULES:
                for attribute, value in vars(sys.modules[name]).items():
                    found[(name, attribute)] = value
                    if isinstance(value, type):
                        for key, item in vars(value).items():
                            found[(name, attribute + "." + key)] = item
            return found

        import io, select, selectors, signal
        before = objects()
        monkey.patch_all()
        accel.accelerate()
        patched = [n for n in MODULES if changed_by_us(n)]
        assert io.FileIO.read is not before[("io", "FileIO.read")]
        run_patched()
        monkey.restore()
        after = objects()
        changed = sorted("%s.%s" % key for key in before.keys() | after.keys()
                         if before.get(key, "missing") is not after.get(key, "missing"))
        print(json.dumps({"patched": patched, "changed": changed,
                          "default": selectors.DefaultSelector is selectors.EpollSelector,
                          "handler": signal.getsignal(signal.SIGUSR1) is handler,
                          "unpatched": [n for n in MODULES if changed_by_us(n)]}))
    """))
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    assert len(result["patched"]) >= 14, result["patched"]
    assert result["changed"] == []
    assert result["default"] and result["handler"]
    assert result["unpatched"] == []


def test_modules_imported_while_patched_equal_a_fresh_python3s():
    fresh = run_python(COMMON + textwrap.dedent("""
        for name in MODULES:
            importlib.import_module(name)
        print(json.dumps(fingerprints()))
    """))
    assert fresh.returncode == 0, fresh.stderr
    restored = run_python(COMMON + textwrap.dedent("""
        already = [name for name in MODULES if name in sys.modules]
        monkey.patch_all()
        accel.accelerate()
        for name in MODULES:
            importlib.import_module(name)
        import selectors, threading
        assert threading.Lock is not monkey.get_original("_thread", "allocate_lock")
        run_patched()
        monkey.restore()
        print(json.dumps(already), file=sys.stderr)
        print(json.dumps(fingerprints()))
    """))
    assert restored.returncode == 0, restored.stderr
    imported_before = json.loads(restored.stderr)
    # threading, socket, ssl, selectors, ... were first imported while patched.
    assert {"threading", "socket", "ssl", "selectors", "signal", "queue"}.isdisjoint(imported_before)
    expected, found = json.loads(fresh.stdout), json.loads(restored.stdout)
    differences = {key: (expected.get(key), found.get(key))
                   for key in expected.keys() | found.keys() if expected.get(key) != found.get(key)}
    assert differences == {}
    assert found["selectors.DefaultSelector"] == expected["selectors.EpollSelector"]


def test_threads_after_restore_are_python3s_and_patching_again_works():
    r = run_python(COMMON + textwrap.dedent("""
        import threading, _thread, socket
        monkey.patch_all()
        run_patched()
        monkey.restore()

        def report():
            me = threading.current_thread()
            print(type(me).__name__, me.name, me.ident == _thread.get_ident(), me in threading.enumerate(),
                  _framework_core.hub_is_running(), flush=True)
        t = threading.Thread(target=report)
        t.start()
        t.join()
        report()
        monkey.patch_all()
        run_patched()
        hub.run(report)
        monkey.restore()
        t = threading.Thread(target=report)
        t.start()
        t.join()
    """))
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith("Thread Thread-") and lines[0].endswith(" True True False"), lines
    assert lines[1] == "_MainThread MainThread True True False", lines
    assert lines[2].endswith("True"), lines  # patched again: on the hub
    assert lines[3].startswith("Thread Thread-") and lines[3].endswith(" True True False"), lines


def test_restore_inside_tfpython_gives_real_threads():
    r = run_tfpython("""
        import threading, theframework.monkey as m, _framework_core
        m.restore()
        natives = []
        t = threading.Thread(target=lambda: natives.append(threading.get_native_id()))
        t.start()
        t.join()
        print(natives[0] != threading.get_native_id(), threading.current_thread().name,
              _framework_core.hub_is_running())
    """)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "True MainThread True\n"
