"""Monkey patching: make the blocking standard library cooperative.

Each patched stdlib module has one short file here (``time.py``,
``socket.py``, ...; PATCH_MODULES maps the stdlib module to it) with
``patches(module)`` returning ``{attribute: replacement}`` (a dotted
attribute reaches into an object of the module: a class, as ssl's
``SSLContext.sslsocket_class``, or threading's ``_dangling``); a
replacement of ``REMOVE`` deletes the attribute. Originals are kept in one
registry (``_registry``) and reached through ``get_original``.

Modules already imported are patched at once; the others the moment they
are first imported (a wrapper around importlib's _find_and_load, invisible in
sys.meta_path, shared with ``theframework.accel``), so start-up stays as
fast as python3's.

Plugins hear of it (``events``); ``restore()`` puts python3's standard
library back exactly, names modules copied from patched ones and the
accelerators' C stand-ins (``theframework.accel``, not patches) included.
"""
import importlib
import os
import sys
import types

from theframework._core import core as _core, hidden
from theframework.monkey import _registry, events
from theframework.monkey.events import subscribe, unsubscribe  # noqa: F401 (the public API)

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_core.set_hidden_path(_PACKAGE_DIR)

REMOVE = object()

#: patch module (theframework.monkey.<name>) for each stdlib module, in
#: the order patch_all applies them.
PATCH_MODULES = {
    "io": "io",
    "os": "os",
    "time": "time",
    "_thread": "thread",
    "threading": "threading",
    "queue": "queue",
    "select": "select",
    "selectors": "selectors",
    "socket": "socket",
    "ssl": "ssl",
    "_signal": "_signal",
    "signal": "signal",
    "multiprocessing.synchronize": "multiprocessing_synchronize",
    "psycopg2": "psycopg2",
}

_hook = None


# ------------------------------------------------------------ the registry --

def _owner(module, name):
    """The object that holds attribute ``name`` of module (dotted names reach
    into an object of the module: "SSLContext.sslsocket_class"), and the
    last part."""
    *path, last = name.split(".")
    for part in path:
        module = getattr(module, part)
    return module, last


def get_original(module_name, name):
    """The value ``module_name.name`` had before patching (the current value
    when it was never patched). ``name`` may also be a list of names, or a
    dotted name for an attribute of an object of the module."""
    if not isinstance(name, str):
        return [get_original(module_name, n) for n in name]
    module = sys.modules.get(module_name) or importlib.import_module(module_name)
    owner, attribute = _owner(module, name)
    current = getattr(owner, attribute, _registry.MISSING)
    accel = sys.modules.get("theframework.accel")  # imported once something accelerates
    if accel is not None:
        current = accel.original(module_name, name, current)
    value = _registry.original(module_name, name, current)
    if value is _registry.MISSING:
        raise AttributeError("module %r has no attribute %r" % (module_name, name))
    return value


def set_method(module, attribute, function):
    """For patch definitions: put ``function`` on a class of ``module`` as a
    method (a dotted ``attribute``: "SemLock.__enter__"). Set here rather
    than returned from patches(), whose replacements are wrapped to hide
    their frames and would not bind; the original is kept in the registry
    all the same, for get_original() and restore()."""
    owner, last = _owner(module, attribute)
    _registry.remember(module.__name__, attribute, owner, last)
    _registry.replaced_by(module.__name__, attribute, function)
    _set(owner, last, function)


def _set(owner, name, value):
    try:
        setattr(owner, name, value)
    except TypeError:
        if not isinstance(owner, type):
            raise
        _core.set_type_attribute(owner, name, value)  # a built-in type: io.FileIO, select.epoll


def _delete(owner, name):
    if name in getattr(owner, "__dict__", ()):
        delattr(owner, name)


def is_module_patched(module_name):
    return _registry.is_patched(module_name)


def is_object_patched(module_name, name):
    return _registry.is_saved(module_name, name)


# ------------------------------------------------------------- patching --

#: module -> another definition file than PATCH_MODULES's, given to
#: patch_all() as ``name="file"`` (threading when threads stay OS threads).
_variants = {}


def _patch_definition(module_name):
    return importlib.import_module("theframework.monkey." + _variants.get(module_name, PATCH_MODULES[module_name]))


def _hidden(replacement):
    if isinstance(replacement, type) and not _ours(replacement):
        return replacement
    return hidden(replacement)


def _ours(cls):
    code = next((v.__code__ for v in vars(cls).values() if isinstance(v, types.FunctionType)), None)
    return code is not None and code.co_filename.startswith(_PACKAGE_DIR)


def _apply(module):
    # Per module object: a fresh copy imported again (import_fresh_module)
    # is patched too; the first copy's originals stay the registry's.
    if _registry.is_patched_object(module):
        return
    name = module.__name__
    definition = _patch_definition(name)
    if events.wanted():
        events.notify(events.WillPatchModule(name, module))
    replaced = {}
    patches = definition.patches(module)
    # A replacement the module has itself (queue's _PySimpleQueue) is not
    # ours: restore() must not take it for a copy of ours.
    own = {id(value) for value in vars(module).values()}
    for attribute, replacement in patches.items():
        replacement = _hidden(replacement)
        owner, last = _owner(module, attribute)
        replaced[attribute] = getattr(owner, last, _registry.MISSING)
        _registry.remember(name, attribute, owner, last)
        if replacement is REMOVE:
            _delete(owner, last)
        else:
            if id(replacement) not in own:
                _registry.replaced_by(name, attribute, replacement)
            _set(owner, last, replacement)
    _registry.mark_patched(name, module)
    if events.wanted():
        events.notify(events.DidPatchModule(name, module, replaced))


def get_patched(module_name):
    """The module, with its patch applied (for definitions that build on
    another patched module)."""
    module = importlib.import_module(module_name)
    if module_name in PATCH_MODULES:
        _apply(module)
    return module


def patch_module(module_name):
    """Patch one stdlib module now (importing it). Patching twice is a no-op."""
    if module_name not in PATCH_MODULES:
        raise ValueError("no patch for module %r" % (module_name,))
    _apply(importlib.import_module(module_name))


class _ImportHook:
    """Hands a module to its ``apply(module)`` (a patch here, stand-ins in
    theframework.accel) the first time it is imported, before the importer
    sees it. It wraps importlib's ``_find_and_load``, which CPython calls
    for every import of a module not yet in sys.modules; sys.meta_path, the
    modules' loaders and import tracebacks stay exactly python3's (the
    wrapper is C: it adds no frame). Names stay pending, so that a fresh
    copy of a module (test.support's import_fresh_module) is handled too."""

    def __init__(self):
        import _frozen_importlib
        self.bootstrap = _frozen_importlib
        self.pending = set()
        self.appliers = {}
        self.original = _frozen_importlib._find_and_load
        _frozen_importlib._find_and_load = _core.make_find_and_load(self.original, self.pending, self.apply)

    def apply(self, module):
        self.appliers[module.__name__](module)

    def remove(self):
        self.bootstrap._find_and_load = self.original


def _watch_imports(names, apply):
    """Call ``apply(module)`` when a module named in ``names`` is first
    imported."""
    global _hook
    if names:
        if _hook is None:
            _hook = _ImportHook()
        _hook.pending.update(names)
        _hook.appliers.update(dict.fromkeys(names, apply))


def _unwatch_imports(names):
    if _hook is not None:
        _hook.pending.difference_update(names)


#: Modules that make threads fibers; TFPYTHON_PATCH_THREADS=0 keeps OS
#: threads (threading gets only cooperative locks and joins) while sockets
#: stay cooperative.
THREAD_MODULES = ("_thread", "threading", "queue")


def _off(environ, variable):
    return environ.get(variable, "1") in ("0", "no", "false")


#: TFPYTHON_NO_PATCH values that leave the whole standard library alone
#: (the launcher does not patch at all then); any other value names modules.
NO_PATCH_ALL = ("1", "yes", "true", "all")


def modules_left_alone(value):
    """The module names of a TFPYTHON_NO_PATCH value ("socket,ssl"); a
    ValueError names an unknown one."""
    names = [name.strip() for name in value.split(",") if name.strip()]
    unknown = [name for name in names if name not in PATCH_MODULES]
    if unknown:
        raise ValueError("no patch for module %s; the patched modules are: %s"
                         % (", ".join(map(repr, unknown)), ", ".join(PATCH_MODULES)))
    return names


def options_from_environment(environ):
    """patch_all() keyword arguments from TFPYTHON_PATCH_THREADS and a
    TFPYTHON_NO_PATCH list of modules."""
    options = {}
    if _off(environ, "TFPYTHON_PATCH_THREADS"):
        options.update((name, False) for name in THREAD_MODULES)
        # Threads stay OS threads, but what greenlets wait on does not
        # block the hub: cooperative locks (shared with the OS threads),
        # joins waited for on the pool.
        options.update(threading="threading_os_threads", queue=True)
    no_patch = environ.get("TFPYTHON_NO_PATCH", "0")
    if no_patch.lower() not in NO_PATCH_ALL + ("0", ""):
        options.update((name, False) for name in modules_left_alone(no_patch))
    return options


#: What a patch definition builds on (it asks get_patched for them): a
#: module left alone leaves alone the patches that need it, so that an
#: opt-out holds and is_module_patched() tells the truth.
_DEFINITION_NEEDS = {
    "threading": ("_thread", "_signal"),
    "queue": ("threading",),
    "selectors": ("select",),
    "signal": ("_signal",),
}


def _left_alone(modules):
    off = {name for name in PATCH_MODULES if not modules.get(name, True)}
    grew = True
    while grew:
        grew = False
        for name in PATCH_MODULES:
            choice = modules.get(name, True)
            definition = choice if isinstance(choice, str) else PATCH_MODULES[name]
            if name not in off and any(n in off for n in _DEFINITION_NEEDS.get(definition, ())):
                off.add(name)
                grew = True
    return off


#: Loaded at start-up but patched only when a module that needs the patch is
#: first imported (their definitions ask get_patched), to keep start-up at
#: python3's cost: _signal waits for signal or threading.
DEFERRED = {"_signal"}


def patch_all(**modules):
    """Patch every module in PATCH_MODULES (``name=False`` leaves one alone,
    ``name="file"`` patches it with monkey/file.py instead): those imported
    already at once, the rest when first imported. Under plain python3, a
    RuntimeWarning says when patching comes too late for something already
    made (ssl imported, threads started, a selector created)."""
    _patch_all(modules, warn=True)


def _patch_all(modules, warn):
    unknown = sorted(set(modules) - set(PATCH_MODULES))
    if unknown:
        raise TypeError("patch_all() got unexpected module names: %s" % ", ".join(map(repr, unknown)))
    off = _left_alone(modules)
    wanted = [m for m in PATCH_MODULES if m not in off]
    if events.load_plugins() or events.wanted():
        events.notify(events.WillPatchAll(wanted, dict(modules)))
    if warn:
        from theframework.monkey import _late
        _late.warn_if_late(wanted, stacklevel=4)
    _variants.update((m, v) for m, v in modules.items() if isinstance(v, str))
    later = []
    for name in wanted:
        if name in DEFERRED:
            continue
        module = sys.modules.get(name)
        if module is not None:
            # _thread included: importlib's module locks must see one kind of
            # lock and one kind of thread id from the start.
            _apply(module)
        elif not _registry.is_patched(name):
            later.append(name)
    _watch_imports(later, _apply)
    if events.wanted():
        pending = tuple(_hook.pending) if _hook else ()
        events.notify(events.DidPatchAll(tuple(m for m in PATCH_MODULES if _registry.is_patched(m)),
                                         tuple(m for m in PATCH_MODULES if m in pending)))


def restore():
    """Undo every patch: python3's standard library exactly as it was. The
    originals go back; names a module copied from a patched one when it was
    imported after patching (threading's _allocate_lock, signal's pause,
    selectors' PollSelector._selector_cls) and its unheld module-level
    locks become python3's again; each patch definition undoes what else
    it changed (restore(module) in its file: threading's main thread, the
    signal handlers); the accelerators' stand-ins go (theframework.accel's
    restore()); the import hook goes. patch_all() may follow. Threads
    started while patched should have ended."""
    global _hook
    accel = sys.modules.get("theframework.accel")
    if accel is not None:
        accel.restore()
    if _hook is not None:
        _hook.remove()
    _hook = None
    patched = _registry.patched_objects()
    for (module_name, attribute), (value, held) in _registry.items():
        module = sys.modules.get(module_name)
        if module is None:
            continue
        try:
            owner, last = _owner(module, attribute)
        except AttributeError:
            continue  # its class is gone from the module
        if value is _registry.MISSING or not held:
            _delete(owner, last)
        else:
            _set(owner, last, value)
    from theframework.monkey import _restore
    _restore.copies_in_stdlib(_registry.original_of_replacement, _set)
    for module in reversed(patched):
        definition = _patch_definition(module.__name__)
        if hasattr(definition, "restore"):
            definition.restore(module)
    _variants.clear()
    _registry.forget_all()
