"""Fiber-threads own what a thread owns: threading.local (every subclass
shape), the thread-state dict (asyncio's running loop), its id, trace and
profile functions, async generator hooks, coroutine origin tracking."""
import asyncio
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from conftest import PYTHON, TFPYTHON

CASES = Path(__file__).parent / "thread_state_cases"


def test_every_per_thread_thing_matches_python3():
    script = CASES / "local_shapes.py"
    expected = subprocess.run([PYTHON, script], capture_output=True, text=True, timeout=60)
    actual = subprocess.run([TFPYTHON, script, "--tfpython"], capture_output=True, text=True, timeout=60)
    assert expected.returncode == 0, expected.stderr
    assert actual.returncode == 0, actual.stderr
    assert actual.stdout == expected.stdout


def _fiber_thread(fn):
    import _framework_core
    out = []

    def body():
        assert type(_framework_core.thread_greenlet()).__name__ == "ThreadFiber"
        out.append(fn())
    t = threading.Thread(target=body)
    t.start()
    t.join()
    assert len(out) == 1, "the thread failed"
    return out[0]


def test_class_attribute_of_a_local_subclass(in_hub):
    class L(threading.local):
        x = None
    assert L().x is None
    assert _fiber_thread(lambda: L().x) is None


def test_running_loop_is_per_thread(in_hub):
    async def inner():
        return asyncio.get_running_loop()

    async def main():
        outer = asyncio.get_running_loop()

        def body():
            with pytest.raises(RuntimeError, match="no running event loop"):
                asyncio.get_running_loop()
            return asyncio.run(inner())
        inner_loop = _fiber_thread(body)
        assert inner_loop is not outer
        return outer
    asyncio.run(main())


def test_get_event_loop_in_a_thread_has_no_default(in_hub):
    def body():
        with pytest.raises(RuntimeError, match="There is no current event loop in thread"):
            asyncio.get_event_loop()
        return True
    assert _fiber_thread(body)


def test_trace_function_is_per_thread(in_hub):
    calls = []

    def tracer(frame, event, arg):
        calls.append(event)

    def body():
        sys.settrace(tracer)
        return sys.gettrace()
    before = sys.gettrace()
    assert _fiber_thread(body) is tracer
    assert sys.gettrace() is before


def test_a_thread_dict_goes_before_join_returns(in_hub):
    import weakref

    class Obj:
        pass
    local = threading.local()
    refs = []

    def body():
        local.o = Obj()
        refs.append(weakref.ref(local.o))
    _fiber_thread(body)
    assert refs[0]() is None


def test_local_in_a_spawned_greenlet_is_its_own(in_hub):
    import theframework as tf
    local = threading.local()
    local.v = "main"
    g = tf.spawn(lambda: (getattr(local, "v", None), setattr(local, "v", "g"), local.v))
    assert g.get() == (None, None, "g")
    assert local.v == "main"
