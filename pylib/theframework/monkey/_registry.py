"""The one registry of what was patched and what it replaced."""

#: (module name, attribute) -> the original value, or MISSING
_originals = {}
#: module names whose patch has been applied
_patched_modules = set()
#: id -> module object for every copy patched (kept alive so ids stay unique)
_patched_objects = {}


class _Missing:
    def __repr__(self):
        return "MISSING"


MISSING = _Missing()


def remember(module_name, attribute, original):
    # Only the first original counts: patching twice must not record our
    # own replacement as "the original".
    _originals.setdefault((module_name, attribute), original)


def original(module_name, attribute, current):
    value = _originals.get((module_name, attribute), current)
    return value


def is_saved(module_name, attribute):
    return (module_name, attribute) in _originals


def mark_patched(module_name, module):
    _patched_modules.add(module_name)
    _patched_objects[id(module)] = module


def is_patched_object(module):
    return _patched_objects.get(id(module)) is module


def is_patched(module_name):
    return module_name in _patched_modules


def items():
    return list(_originals.items())


def forget_all():
    _originals.clear()
    _patched_modules.clear()
    _patched_objects.clear()
