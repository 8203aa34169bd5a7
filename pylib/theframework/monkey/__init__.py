"""Monkey patching: make the blocking standard library cooperative.

Each patched stdlib module has one short file here (``time.py``,
``socket.py``, ...) that declares ``TARGET`` (the module it patches) and
``patches(module)`` returning ``{attribute: replacement}``; a replacement of
``REMOVE`` deletes the attribute. Originals are kept in one registry
(``_registry``) and reached through ``get_original``.

Modules already imported are patched at once; the others the moment they
are first imported (an import hook), so start-up stays as fast as python3's.
"""
import importlib
import sys

from theframework.monkey import _registry

REMOVE = object()

#: patch module (theframework.monkey.<name>) for each stdlib module, in
#: the order patch_all applies them.
PATCH_MODULES = {
    "time": "time",
    "signal": "signal",
    "socket": "socket",
}

_hook = None


# ------------------------------------------------------------ the registry --

def get_original(module_name, name):
    """The value ``module_name.name`` had before patching (the current value
    when it was never patched). ``name`` may also be a list of names."""
    if not isinstance(name, str):
        return [get_original(module_name, n) for n in name]
    module = sys.modules.get(module_name) or importlib.import_module(module_name)
    value = _registry.original(module_name, name, getattr(module, name, _registry.MISSING))
    if value is _registry.MISSING:
        raise AttributeError("module %r has no attribute %r" % (module_name, name))
    return value


def is_module_patched(module_name):
    return _registry.is_patched(module_name)


def is_object_patched(module_name, name):
    return _registry.is_saved(module_name, name)


# ------------------------------------------------------------- patching --

def _patch_definition(module_name):
    return importlib.import_module("theframework.monkey." + PATCH_MODULES[module_name])


def _apply(module):
    name = module.__name__
    if _registry.is_patched(name):
        return
    definition = _patch_definition(name)
    for attribute, replacement in definition.patches(module).items():
        _registry.remember(name, attribute, getattr(module, attribute, _registry.MISSING))
        if replacement is REMOVE:
            if hasattr(module, attribute):
                delattr(module, attribute)
        else:
            setattr(module, attribute, replacement)
    _registry.mark_patched(name)


def patch_module(module_name):
    """Patch one stdlib module now (importing it). Patching twice is a no-op."""
    if module_name not in PATCH_MODULES:
        raise ValueError("no patch for module %r" % (module_name,))
    _apply(importlib.import_module(module_name))


class _PatchOnImport:
    """A meta path finder: when a module waiting for its patch is imported,
    patch it right after it executes, before the importer sees it."""

    def __init__(self, names):
        self.pending = set(names)

    def find_spec(self, name, path=None, target=None):
        if name not in self.pending:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                break
        else:
            return None
        if spec.loader is None:
            return spec
        spec.loader = _PatchingLoader(spec.loader, self)
        return spec


class _PatchingLoader:
    def __init__(self, loader, hook):
        self.loader = loader
        self.hook = hook

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        self.loader.exec_module(module)
        # The module keeps its real loader (inspect, linecache, reload).
        module.__loader__ = self.loader
        if module.__spec__ is not None:
            module.__spec__.loader = self.loader
        self.hook.pending.discard(module.__name__)
        _apply(module)


def patch_all(**modules):
    """Patch every module in PATCH_MODULES (``name=False`` leaves one alone):
    those imported already at once, the rest when first imported."""
    global _hook
    wanted = [m for m in PATCH_MODULES if modules.get(m, True)]
    later = []
    for name in wanted:
        module = sys.modules.get(name)
        if module is not None:
            _apply(module)
        elif not _registry.is_patched(name):
            later.append(name)
    if later:
        if _hook is None:
            _hook = _PatchOnImport(later)
            sys.meta_path.insert(0, _hook)
        else:
            _hook.pending.update(later)


def restore():
    """Undo every patch: originals go back, the import hook is removed."""
    global _hook
    if _hook is not None and _hook in sys.meta_path:
        sys.meta_path.remove(_hook)
    _hook = None
    for (module_name, attribute), value in _registry.items():
        module = sys.modules.get(module_name)
        if module is None:
            continue
        if value is _registry.MISSING:
            if hasattr(module, attribute):
                delattr(module, attribute)
        else:
            setattr(module, attribute, value)
    _registry.forget_all()
