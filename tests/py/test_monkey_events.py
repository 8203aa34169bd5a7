"""What patching tells others: plugin events (in-process subscribers and
entry points of the group theframework.plugins) and the RuntimeWarnings of
a patch that comes late under plain python3."""
import subprocess
import textwrap

from conftest import PYTHON, plain_python_env, run_python, run_tfpython

PLUGIN = textwrap.dedent("""
    import sys
    def on_event(event):
        detail = getattr(event, "module_name", "")
        if event.name == "did-patch-module":
            detail += " " + ",".join(sorted(event.originals))
        print("plugin", event.name, detail, file=sys.stderr, flush=True)
""")


def _install_plugin(site, body=PLUGIN, name="tf_test_plugin"):
    (site / (name + ".py")).write_text(body)
    info = site / (name + "-1.0.dist-info")
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: %s\nVersion: 1.0\n" % name)
    (info / "entry_points.txt").write_text(
        "[console_scripts]\nx = y:z\n\n[theframework.plugins]\non-event = %s:on_event\n" % name)


def _events(stderr):
    return [line.split(" ", 2)[1:] for line in stderr.splitlines() if line.startswith("plugin ")]


APP = ("import socket, threading\nfrom theframework import monkey\n"
       "print('app', monkey.is_module_patched('socket'))\n")


def test_an_entry_point_plugin_gets_the_four_events_in_order(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    _install_plugin(site)
    app = tmp_path / "app.py"
    app.write_text(APP)
    env = plain_python_env()
    env["PYTHONPATH"] = str(site) + ":" + env["PYTHONPATH"]
    r = subprocess.run([PYTHON, "-m", "theframework.monkey", str(app)], capture_output=True, text=True,
                       env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "app True\n"
    events = _events(r.stderr)
    names = [e[0] for e in events]
    assert names[0] == "will-patch-all"
    first_all = names.index("did-patch-all")
    # Modules imported already are patched between the two; each has its pair.
    now = names[1:first_all]
    assert now and now == ["will-patch-module", "did-patch-module"] * (len(now) // 2)
    assert [e[1].split()[0] for e in events[1:first_all:2]] == [e[1].split()[0] for e in events[2:first_all:2]]
    # socket, first imported by the app, is patched then, with its events.
    later = events[first_all + 1:]
    assert ["will-patch-module", "socket"] in later
    assert any(n == "did-patch-module" and d.startswith("socket ") and "socket" in d.split()[1].split(",")
               for n, d in later), later


def test_an_entry_point_plugin_under_tfpython(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    _install_plugin(site)
    r = run_tfpython(APP, env={"PYTHONPATH": str(site)})
    assert r.returncode == 0, r.stderr
    assert r.stdout == "app True\n"
    names = [e[0] for e in _events(r.stderr)]
    assert names[0] == "will-patch-all" and "did-patch-all" in names
    assert names.count("will-patch-module") == names.count("did-patch-module") >= 5


def test_a_failing_plugin_is_reported_and_patching_goes_on(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    _install_plugin(site, "def on_event(event):\n    raise ValueError('broken plugin ' + event.name)\n")
    _install_plugin(site, "import no_such_module_anywhere\n", name="tf_unloadable_plugin")
    r = run_tfpython(APP, env={"PYTHONPATH": str(site)})
    assert r.returncode == 0, r.stderr
    assert r.stdout == "app True\n"
    assert "theframework.monkey: plugin on-event failed on will-patch-all; patching goes on:" in r.stderr
    assert "ValueError: broken plugin did-patch-all" in r.stderr
    assert "loading plugin on-event = tf_unloadable_plugin:on_event failed" in r.stderr
    assert "ModuleNotFoundError: No module named 'no_such_module_anywhere'" in r.stderr


def test_in_process_subscribers_see_late_modules_and_may_fail():
    r = run_python("""
        import sys
        from theframework import monkey
        seen = []
        def broken(event):
            raise RuntimeError("subscriber bug")
        monkey.subscribe(seen.append)
        monkey.subscribe(broken)
        monkey.patch_all()
        import ssl
        told = len(seen)
        monkey.unsubscribe(broken)
        import selectors
        names = [(e.name, getattr(e, "module_name", "")) for e in seen]
        assert names[0] == ("will-patch-all", ""), names
        assert set(seen[0].modules) >= {"socket", "ssl", "threading"}
        done = [n for n, _ in names].index("did-patch-all")
        assert "ssl" in seen[done].pending and "time" in seen[done].patched
        later = names[done + 1:]
        for module in ("socket", "ssl", "select", "selectors"):
            assert later.index(("will-patch-module", module)) < later.index(("did-patch-module", module)), names
        assert len(later) == 2 * len(set(later)) / 2 and all(n.endswith("-module") for n, _ in later), names
        did_ssl = seen[done + 1 + later.index(("did-patch-module", "ssl"))]
        assert did_ssl.module is ssl and did_ssl.originals == {"SSLContext.sslsocket_class": ssl.SSLSocket}
        print("ok", monkey.is_module_patched("ssl"), told)
    """)
    assert r.returncode == 0, r.stderr
    ok, patched, told = r.stdout.split()
    assert (ok, patched) == ("ok", "True")
    # Every event until it was unsubscribed, and none after.
    assert r.stderr.count("theframework.monkey: subscriber") == int(told)
    assert "RuntimeError: subscriber bug" in r.stderr


LATE = """
    import ssl, selectors, threading, warnings
    stop = threading.Event()
    threading.Thread(target=stop.wait, daemon=True).start()
    selector = selectors.DefaultSelector()
    from theframework import monkey
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        monkey.patch_all()
        monkey.patch_all()
    for w in caught:
        print(w.category.__name__, w.message.args[0].split(" before ")[0], w.filename == __file__)
    stop.set()
"""


def test_late_patching_warns_once_each_under_python3(tmp_path):
    script = tmp_path / "late.py"
    script.write_text(textwrap.dedent(LATE))
    r = subprocess.run([PYTHON, str(script)], capture_output=True, text=True, env=plain_python_env(), timeout=60)
    assert (r.returncode, r.stderr) == (0, "")
    assert r.stdout.splitlines() == [
        "RuntimeWarning ssl was imported True",
        "RuntimeWarning threads were started True",
        "RuntimeWarning a selector was created True",
    ]


def test_a_thread_started_before_patching_keeps_its_identity_and_ends_cleanly():
    # It is a plain OS thread: get_ident() there is python3's, the key
    # threading registered it under, so its exit finds itself in _active.
    r = run_python("""
        import threading, _thread
        go = threading.Event()
        seen = []
        def work():
            go.wait()
            seen.append((threading.get_ident() == me.ident, threading.current_thread() is me))
        me = threading.Thread(target=work)
        me.start()
        import warnings
        warnings.simplefilter("ignore", RuntimeWarning)  # the late patch is warned of: tested above
        from theframework import monkey
        monkey.patch_all()
        assert monkey.is_module_patched("threading") and threading.get_ident is not monkey.get_original("_thread", "get_ident")
        go.set()
        me.join()
        print(seen, me.is_alive(), me in threading.enumerate())
    """)
    assert (r.returncode, r.stdout, r.stderr) == (0, "[(True, True)] False False\n", "")


def test_a_plain_thread_that_ran_a_hub_keeps_its_identity():
    # A hub of its own (theframework.hub.run) does not make the OS thread's
    # root greenlet another thread: its ident stays the one threading has.
    r = run_python("""
        import threading, warnings
        warnings.simplefilter("ignore", RuntimeWarning)
        go = threading.Event()
        seen = []
        def work():
            go.wait()
            from theframework import hub
            before = threading.get_ident()
            hub.run(lambda: None)
            seen.append((before == me.ident, threading.get_ident() == me.ident, threading.current_thread() is me))
        me = threading.Thread(target=work)
        me.start()
        from theframework import monkey
        monkey.patch_all()
        go.set()
        me.join()
        print(seen, me in threading.enumerate())
    """)
    assert (r.returncode, r.stdout, r.stderr) == (0, "[(True, True, True)] False\n", "")


def test_patching_is_never_late_under_tfpython(tmp_path):
    script = tmp_path / "late.py"
    script.write_text(textwrap.dedent(LATE))
    r = run_tfpython(None, script=script)
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")


def test_an_early_patch_is_silent_under_python3():
    r = run_python("""
        import warnings
        warnings.simplefilter("error")
        from theframework import monkey
        monkey.patch_all()
        import ssl, selectors, threading
        selectors.DefaultSelector().close()
    """)
    assert (r.returncode, r.stderr) == (0, ""), r.stderr
