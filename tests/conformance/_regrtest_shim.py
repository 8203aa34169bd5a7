"""Run CPython's regression-test runner with a per-test event stream.

Usage (run by run.py under each interpreter, never imported):

    INTERPRETER _regrtest_shim.py --events FILE [--test-timeout SEC] -- REGRTEST-ARGS...

This is exactly ``INTERPRETER -m test REGRTEST-ARGS...`` (it calls
``test.libregrtest.main()``) except that it first

* records what the interpreter has monkey-patched (the "probe": which
  implementation ``socket.socket``, ``time.sleep``, ... resolve to), so the
  runner can check that gevent really patched and show what tfpython patches;
* wraps the outcome methods of ``test.support.testresult.RegressionTestResult``
  (the result class regrtest uses for every module) so that each test start and
  outcome is appended to FILE as one JSON line with a single ``os.write``;
* with --test-timeout, runs a watchdog that dumps all thread and greenlet
  stacks and exits when no test starts or stops for SEC seconds.

Unlike ``--junit-xml`` (written only when the run finishes) the stream survives
a hang or a crash, and it also carries subtest failures and
setUpClass/setUpModule errors, which regrtest's XML drops.
"""
import json
import os
import re
import sys
import time


def _short(text, limit=600):
    text = str(text)
    return text if len(text) <= limit else text[:limit] + "..."


_ADDR = re.compile(r" at 0x[0-9a-fA-F]+")


def _describe(obj):
    module = getattr(obj, "__module__", None)
    name = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None)
    if module and name and not repr(obj).startswith("<built-in method"):
        return "%s.%s" % (module, name)
    return _ADDR.sub("", repr(obj))


PROBE = [
    ("socket", "socket"), ("socket", "create_connection"), ("socket", "getaddrinfo"),
    ("select", "select"), ("select", "poll"), ("selectors", "DefaultSelector"),
    ("time", "sleep"), ("threading", "Lock"), ("threading", "Thread"),
    ("threading", "Event"), ("_thread", "start_new_thread"), ("_thread", "allocate_lock"),
    ("queue", "Queue"), ("ssl", "SSLSocket"), ("subprocess", "Popen"),
    ("os", "fork"), ("os", "waitpid"), ("os", "read"), ("signal", "signal"),
]


def probe():
    import importlib
    out = {}
    for module_name, attr in PROBE:
        key = "%s.%s" % (module_name, attr)
        try:
            out[key] = _describe(getattr(importlib.import_module(module_name), attr))
        except Exception as exc:  # noqa: BLE001 - record, never fail the run
            out[key] = "<%s: %s>" % (type(exc).__name__, exc)
    # Which probed objects the framework itself says it replaced (a patched
    # object may keep its original name, e.g. a C-level time.sleep).
    patched = []
    checkers = []
    for framework in ("gevent.monkey", "theframework.monkey"):
        checker = getattr(sys.modules.get(framework), "is_object_patched", None)
        if checker is not None:
            checkers.append(checker)
    for module_name, attr in PROBE:
        for checker in checkers:
            try:
                if checker(module_name, attr):
                    patched.append("%s.%s" % (module_name, attr))
                    break
            except Exception:  # noqa: BLE001
                pass
    out["patched"] = patched
    gevent_monkey = sys.modules.get("gevent.monkey")
    if gevent_monkey is not None:
        out["gevent.monkey.saved"] = sorted(getattr(gevent_monkey, "saved", {}))
    tf_monkey = sys.modules.get("theframework.monkey")
    if tf_monkey is not None:
        try:
            out["theframework.monkey"] = sorted(
                name for name in tf_monkey.PATCH_MODULES if tf_monkey.is_module_patched(name))
        except Exception as exc:  # noqa: BLE001
            out["theframework.monkey"] = "<%s: %s>" % (type(exc).__name__, exc)
    return out


def _original(module_name, name):
    """The unpatched stdlib object, under gevent or tfpython alike."""
    import importlib
    for framework in ("gevent.monkey", "theframework.monkey"):
        get_original = getattr(sys.modules.get(framework), "get_original", None)
        if get_original is not None:
            try:
                return get_original(module_name, name)
            except Exception:  # noqa: BLE001
                pass
    return getattr(importlib.import_module(module_name), name)


def start_watchdog(timeout, progress):
    import faulthandler
    import signal
    start_new_thread = _original("_thread", "start_new_thread")
    sleep = _original("time", "sleep")
    write = _original("os", "write")
    pid = os.getpid()

    def dump_and_exit(idle):
        out = sys.__stderr__
        write(2, ("Timeout (%d:%02d:%02d)!\n" % (idle // 3600, idle // 60 % 60, idle % 60))
              .encode())
        try:
            faulthandler.dump_traceback(file=out, all_threads=True)
        except Exception:  # noqa: BLE001
            pass
        try:
            import gc
            import traceback
            greenlet = sys.modules.get("greenlet")
            if greenlet is not None:
                lines = ["Greenlets (most recent call last):\n"]
                for obj in gc.get_objects():
                    if isinstance(obj, greenlet.greenlet) and obj.gr_frame is not None:
                        lines.append("Greenlet %s:\n" % _ADDR.sub("", repr(obj)))
                        lines.extend(traceback.format_stack(obj.gr_frame))
                write(2, "".join(lines).encode("utf-8", "replace"))
        except Exception as exc:  # noqa: BLE001
            write(2, ("(greenlet dump failed: %r)\n" % exc).encode())
        os._exit(1)

    def loop():
        try:
            # Signals stay with the main thread, as without the watchdog.
            signal.pthread_sigmask(signal.SIG_BLOCK, signal.valid_signals())
        except Exception:  # noqa: BLE001
            pass
        while True:
            sleep(1.0)
            if os.getpid() != pid:
                return
            idle = time.monotonic() - progress["t"]
            if idle > timeout:
                dump_and_exit(int(idle))

    start_new_thread(loop, ())


def main():
    args = sys.argv[1:]
    if len(args) < 2 or args[0] != "--events":
        sys.stderr.write(__doc__)
        return 2
    events_path, rest = args[1], args[2:]
    test_timeout = None
    if rest[:1] == ["--test-timeout"]:
        test_timeout, rest = float(rest[1]), rest[2:]
    if rest[:1] == ["--"]:
        rest = rest[1:]

    # Watchdog, so that a hang anywhere (a test, a fixture, module import) is
    # cut short and the runner can resume the module after the hung test:
    # when no test has started or stopped for test_timeout seconds, a real OS
    # thread dumps every thread's and every greenlet's stack and exits. (A
    # greenlet blocked in a hub shows no Python frame in faulthandler's dump.)
    # faulthandler's C watchdog, 15 s later, is the backstop for a process
    # stuck while holding the GIL.
    import faulthandler
    progress = {"t": time.monotonic()}

    def arm():
        progress["t"] = time.monotonic()
        if test_timeout:
            faulthandler.dump_traceback_later(test_timeout + 15, exit=True,
                                              file=sys.__stderr__)

    if test_timeout:
        start_watchdog(test_timeout, progress)
    arm()

    fd = os.open(events_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    write = _original("os", "write")
    pid = os.getpid()
    clock = time.monotonic

    def emit(**event):
        event["pid"] = os.getpid()
        event["t"] = round(clock(), 3)
        try:
            write(fd, (json.dumps(event) + "\n").encode("utf-8", "replace"))
        except OSError:
            pass

    emit(e="hello", executable=sys.executable, version=sys.version, argv=rest,
         probe=probe())

    import unittest.case
    import unittest.suite
    from test.support import testresult

    fixture = re.compile(r"^(\w+) \((.+)\)$")

    def test_id(test):
        if isinstance(test, unittest.case._SubTest):
            return test.test_case.id()
        if isinstance(test, unittest.suite._ErrorHolder):
            # "setUpClass (test.test_x.Class)" -> "test.test_x.Class.setUpClass"
            match = fixture.match(test.description)
            return "%s.%s" % (match.group(2), match.group(1)) if match else test.description
        try:
            return test.id()
        except Exception:  # noqa: BLE001
            return str(test)

    def error_text(err):
        etype, value = err[0], err[1]
        name = getattr(etype, "__qualname__", str(etype))
        return _short("%s: %s" % (name, value))

    cls = testresult.RegressionTestResult

    def hook(method, record):
        original = getattr(cls, method)

        def wrapper(self, *a):
            if os.getpid() == pid:
                try:
                    record(*a)
                except Exception:  # noqa: BLE001 - never disturb the run
                    pass
            try:
                return original(self, *a)
            finally:
                if os.getpid() == pid and method in ("startTest", "stopTest"):
                    arm()

        wrapper.__name__ = method
        setattr(cls, method, wrapper)

    hook("startTest", lambda test: emit(e="start", id=test_id(test)))
    hook("stopTest", lambda test: None)
    hook("addSuccess", lambda test: emit(e="ok", id=test_id(test)))
    import traceback

    def tb_text(err):
        # The whole traceback, as unittest prints it at the end of the run
        # (which a hang or crash never reaches); the tail if it is long.
        try:
            text = "".join(traceback.format_exception(*err))
        except Exception:  # noqa: BLE001
            return None
        return text if len(text) <= 4000 else "...\n" + text[-4000:]

    hook("addFailure", lambda test, err: emit(e="fail", id=test_id(test), msg=error_text(err),
                                              tb=tb_text(err)))
    hook("addError", lambda test, err: emit(e="error", id=test_id(test), msg=error_text(err),
                                            tb=tb_text(err)))
    hook("addSkip", lambda test, reason: emit(e="skip", id=test_id(test), msg=_short(reason, 200)))
    hook("addExpectedFailure", lambda test, err: emit(e="xfail", id=test_id(test)))
    hook("addUnexpectedSuccess", lambda test: emit(e="xpass", id=test_id(test)))

    def subtest(test, sub, err):
        if err is None:
            return
        kind = "fail" if issubclass(err[0], test.failureException) else "error"
        emit(e=kind, id=test_id(test), sub=_short(sub._subDescription(), 200),
             msg=error_text(err), tb=tb_text(err))

    hook("addSubTest", subtest)

    # Mirror `python -m test`: sys.path[0] is the working directory, not ours.
    sys.path[0] = os.getcwd()
    sys.argv[1:] = rest
    from test.libregrtest import main as regrtest_main
    code = 0
    try:
        regrtest_main()
    except SystemExit as exc:
        code = exc.code
        raise
    finally:
        if test_timeout:
            faulthandler.cancel_dump_traceback_later()
        emit(e="exit", code=code if isinstance(code, int) or code is None else str(code))


if __name__ == "__main__":
    sys.exit(main())
