"""Accelerators: C stand-ins (``_framework_accel``) for hot pure-Python
functions of the standard library. They return exactly what python3's
return and hand anything unusual to the original; nothing in them blocks.
A speed-up for stdlib HTTP servers and clients, not a patch: they have
their own registry and switch, apart from ``theframework.monkey``.

Each accelerated stdlib module has one short file here (ACCELERATED maps
the module to it) with ``stand_ins(module)`` returning ``{attribute:
stand-in}`` (a dotted attribute reaches into a class of the module).

tfpython accelerates at start-up unless TFPYTHON_ACCELERATE=0 (or
TFPYTHON_NO_PATCH=1, which leaves the whole standard library alone); under
plain python3, call ``accelerate()``. Modules already imported get their
stand-ins at once, the others the moment they are first imported (monkey's
import hook). ``restore()`` here or ``theframework.monkey.restore()`` puts
python3's functions back; ``theframework.monkey.get_original()`` gives
them.
"""
import importlib
import sys

from theframework import monkey

#: stand-in file (theframework.accel.<name>) for each stdlib module
ACCELERATED = {
    "email.parser": "email_parser",
    "email.utils": "email_utils",
}

#: id -> (module, {attribute: python3's value}) for every module object
#: given its stand-ins (a fresh copy from import_fresh_module too), kept
#: alive so that no other object takes its id
_accelerated = {}


def accelerate(**modules):
    """Put the stand-ins in every module of ACCELERATED (``name=False``
    leaves one alone): at once in those imported, the others when first
    imported. Accelerating twice is a no-op."""
    unknown = sorted(set(modules) - set(ACCELERATED))
    if unknown:
        raise TypeError("accelerate() got unexpected module names: %s" % ", ".join(map(repr, unknown)))
    wanted = [name for name in ACCELERATED if modules.get(name, True)]
    monkey._watch_imports([name for name in wanted if name not in sys.modules], _accelerate)
    for name in wanted:
        if name in sys.modules:
            _accelerate(sys.modules[name])


def _accelerate(module):
    if id(module) in _accelerated:
        return
    definition = importlib.import_module("theframework.accel." + ACCELERATED[module.__name__])
    originals = {}
    for attribute, stand_in in definition.stand_ins(module).items():
        owner, last = monkey._owner(module, attribute)
        originals[attribute] = getattr(owner, last)
        setattr(owner, last, stand_in)
    _accelerated[id(module)] = module, originals


def _originals(module_name):
    """{attribute: python3's value} of the module now in sys.modules, when
    it is accelerated."""
    module = sys.modules.get(module_name)
    return _accelerated[id(module)][1] if id(module) in _accelerated else None


def is_accelerated(module_name):
    """Whether the module (the one ``import`` gives) has its stand-ins."""
    return _originals(module_name) is not None


def original(module_name, attribute, current):
    """python3's value of an accelerated attribute (for monkey.get_original);
    ``current`` for any other."""
    return (_originals(module_name) or {}).get(attribute, current)


def restore():
    """python3's functions back in every accelerated module; modules not yet
    imported stay python3's. accelerate() may follow. No stdlib module
    copies a stand-in under another name (http.server and http.client call
    email.utils.formatdate and Parser(...).parsestr), so putting the
    attributes back is all."""
    monkey._unwatch_imports(ACCELERATED)
    for module, originals in _accelerated.values():
        for attribute, value in originals.items():
            owner, last = monkey._owner(module, attribute)
            setattr(owner, last, value)
    _accelerated.clear()
