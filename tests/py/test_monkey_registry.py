"""The patch registry: originals, patched-state queries, lazy patching."""
import sys
import time

from conftest import run_tfpython
from theframework import monkey


def test_time_is_patched_and_original_kept():
    assert monkey.is_module_patched("time")
    assert monkey.is_object_patched("time", "sleep")
    original = monkey.get_original("time", "sleep")
    assert original is not time.sleep
    assert original.__module__ == "time" and original.__self__ is sys.modules["time"]


def test_unpatched_names_give_the_current_value():
    assert not monkey.is_object_patched("time", "monotonic")
    assert monkey.get_original("time", "monotonic") is time.monotonic
    assert monkey.get_original("time", ["monotonic", "time"]) == [time.monotonic, time.time]


def test_patching_twice_is_a_no_op():
    before = time.sleep
    monkey.patch_all()
    monkey.patch_module("time")
    assert time.sleep is before
    assert monkey.get_original("time", "sleep") is not before


def test_unknown_module_is_refused():
    import pytest
    with pytest.raises(ValueError):
        monkey.patch_module("no_such_module")


def test_module_imported_after_start_is_patched_on_import_and_keeps_its_loader():
    r = run_tfpython("""
        import sys, types, theframework.monkey as m
        fake = types.ModuleType("theframework.monkey.fake")
        fake.patches = lambda module: {"PATCHED_MARK": True}
        sys.modules["theframework.monkey.fake"] = fake
        m.PATCH_MODULES["fractions"] = "fake"
        m.patch_all()
        assert "fractions" not in sys.modules
        import fractions
        print(m.is_module_patched("fractions"), fractions.PATCHED_MARK, type(fractions.__loader__).__name__)
    """)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "True True SourceFileLoader\n"


def test_restore_puts_originals_back():
    r = run_tfpython("""
        import time, theframework.monkey as m
        original = m.get_original("time", "sleep")
        m.restore()
        print(time.sleep is original, m.is_module_patched("time"))
    """)
    assert r.stdout == "True False\n", r.stderr


def test_a_class_attribute_patch_is_registered_and_restored():
    # ssl's patch is a class attribute (SSLContext.sslsocket_class): it goes
    # through the one registry like the module attributes do.
    r = run_tfpython("""
        import ssl, theframework.monkey as m
        ours = ssl.SSLContext.sslsocket_class
        print(ours is not ssl.SSLSocket, issubclass(ours, ssl.SSLSocket),
              m.is_object_patched("ssl", "SSLContext.sslsocket_class"),
              m.get_original("ssl", "SSLContext.sslsocket_class") is ssl.SSLSocket)
        m.restore()
        print(ssl.SSLContext.sslsocket_class is ssl.SSLSocket)
    """)
    assert r.stdout == "True True True True\nTrue\n", r.stderr


def test_methods_set_on_classes_are_registered_and_restored():
    # Replacements that must bind as methods (multiprocessing's SemLock
    # __enter__ and _make_methods) are set by set_method, still through the
    # registry.
    r = run_tfpython("""
        import multiprocessing.synchronize as s, theframework.monkey as m
        originals = [m.get_original("multiprocessing.synchronize", "SemLock." + n)
                     for n in ("__enter__", "_make_methods")]
        print(m.is_object_patched("multiprocessing.synchronize", "SemLock.__enter__"),
              s.SemLock.__enter__ is not originals[0], s.SemLock._make_methods is not originals[1])
        m.restore()
        print(s.SemLock.__enter__ is originals[0], s.SemLock._make_methods is originals[1])
    """)
    assert r.stdout == "True True True\nTrue True\n", r.stderr
