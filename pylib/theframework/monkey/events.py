"""What patching tells plugins: four events, in this order for each
patch_all(): WillPatchAll, then WillPatchModule and DidPatchModule for each
module patched now, then DidPatchAll. A module patched later, when it is
first imported, gets its WillPatchModule and DidPatchModule then.

Subscribers are callables taking the event. They come from two places:

- ``theframework.monkey.subscribe(callback)`` in the process;
- entry points of the group ``theframework.plugins`` in installed
  distributions (``entry_points.txt``: ``[theframework.plugins]``,
  ``name = package.module:function``), loaded at the first patch_all().

A subscriber that raises is reported on stderr with its traceback; the
others still get the event, and patching goes on.
"""
import os
import sys

GROUP = "theframework.plugins"


class WillPatchAll:
    """Before anything is patched: ``modules``, the names patch_all() will
    patch (now or when first imported); ``options``, its keyword arguments."""
    name = "will-patch-all"

    def __init__(self, modules, options):
        self.modules = modules
        self.options = options


class WillPatchModule:
    """Before ``module`` (named ``module_name``) is patched."""
    name = "will-patch-module"

    def __init__(self, module_name, module):
        self.module_name = module_name
        self.module = module


class DidPatchModule:
    """After ``module`` was patched: ``originals`` maps each attribute
    replaced (dotted for an attribute of a class) to what it was."""
    name = "did-patch-module"

    def __init__(self, module_name, module, originals):
        self.module_name = module_name
        self.module = module
        self.originals = originals


class DidPatchAll:
    """After patch_all(): ``patched``, the modules patched by now; ``pending``,
    those that will be when first imported."""
    name = "did-patch-all"

    def __init__(self, patched, pending):
        self.patched = patched
        self.pending = pending


for _event in (WillPatchAll, WillPatchModule, DidPatchModule, DidPatchAll):
    _event.__repr__ = lambda self: "<%s %s>" % (type(self).__name__, vars(self))

_subscribers = []
_plugins = None  # [(entry point name, callable)] once loaded


def subscribe(callback):
    """Call ``callback(event)`` for every event from now on."""
    _subscribers.append(callback)


def unsubscribe(callback):
    _subscribers.remove(callback)


def _report(what, event_name):
    import traceback
    print("theframework.monkey: %s failed%s; patching goes on:"
          % (what, " on " + event_name if event_name else ""), file=sys.stderr)
    traceback.print_exc()


def _entry_points(text):
    """(name, "module:attr") of the plugin group in an entry_points.txt."""
    found, in_group = [], False
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("["):
            in_group = line == "[%s]" % GROUP
        elif in_group and "=" in line and not line.startswith(("#", ";")):
            name, value = (part.strip() for part in line.split("=", 1))
            found.append((name, value.split("[", 1)[0].strip()))
    return found


def _load(value):
    import importlib
    module_name, _, attribute = value.partition(":")
    target = importlib.import_module(module_name.strip())
    for part in filter(None, attribute.strip().split(".")):
        target = getattr(target, part)
    return target


def load_plugins():
    """The entry-point subscribers, found once per process. The scan is C
    (importlib.metadata would cost more than tfpython's whole start-up)."""
    global _plugins
    if _plugins is None:
        from theframework._core import core
        _plugins = []
        # The standard library's own folders hold no distributions and are
        # the largest to list.
        stdlib = os.path.dirname(os.__file__)
        skip = {stdlib, os.path.join(stdlib, "lib-dynload")}
        paths = [os.path.abspath(p or os.curdir) for p in sys.path if isinstance(p, str)]
        paths = [p for p in paths if p not in skip]
        for text in core.find_entry_point_files(paths, "[%s]" % GROUP):
            for name, value in _entry_points(text):
                try:
                    _plugins.append((name, _load(value)))
                except Exception:
                    _report("loading plugin %s = %s" % (name, value), None)
    return _plugins


def wanted():
    """Whether anyone listens (events cost nothing when nobody does)."""
    return bool(_subscribers or _plugins)


def notify(event):
    for name, callback in list(_plugins or ()):
        try:
            callback(event)
        except Exception:
            _report("plugin %s" % name, event.name)
    for callback in list(_subscribers):
        try:
            callback(event)
        except Exception:
            _report("subscriber %r" % (callback,), event.name)
