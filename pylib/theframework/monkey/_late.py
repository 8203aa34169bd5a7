"""Warnings when patch_all() comes after something it cannot reach any
more: under plain python3 a program may patch late; tfpython patches before
the program starts (nothing is late then). Each is a RuntimeWarning, given
once per process; only modules still unpatched are looked at, so patching
again later is silent."""
import sys
import warnings

_given = set()


def _threads_started():
    _thread = sys.modules.get("_thread")
    return _thread is not None and _thread._count() > 0


def _selectors_made():
    selectors = sys.modules.get("selectors")
    if selectors is None:
        return False
    import gc
    return any(isinstance(o, selectors.BaseSelector) for o in gc.get_referrers(*_selector_classes(selectors)))


def _selector_classes(selectors):
    found, todo = [], [selectors.BaseSelector]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return found


_CHECKS = (
    ("ssl", lambda: "ssl" in sys.modules,
     "ssl was imported before theframework.monkey patched it: objects made from it already (an "
     "SSLContext subclass, wrapped sockets) may stay blocking. Patch first (python3 -m theframework.monkey, "
     "or run under tfpython)."),
    ("_thread", _threads_started,
     "threads were started before theframework.monkey patched threading: they stay OS threads, and what "
     "they share with patched code may block the hub. Patch first (python3 -m theframework.monkey, or run "
     "under tfpython)."),
    ("selectors", _selectors_made,
     "a selector was created before theframework.monkey patched selectors: its select() blocks the whole "
     "hub. Patch first (python3 -m theframework.monkey, or run under tfpython)."),
)


def warn_if_late(wanted, stacklevel):
    from theframework.monkey import _registry
    for module, is_late, message in _CHECKS:
        if module in wanted and module not in _given and not _registry.is_patched(module) and is_late():
            _given.add(module)
            warnings.warn(message, RuntimeWarning, stacklevel=stacklevel)
