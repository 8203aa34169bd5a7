"""The one registry of what was patched and what it replaced."""

#: (module name, attribute) -> the original value, or MISSING
_originals = {}
#: module names whose patch has been applied
_patched_modules = set()


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


def mark_patched(module_name):
    _patched_modules.add(module_name)


def is_patched(module_name):
    return module_name in _patched_modules


def items():
    return list(_originals.items())


def forget_all():
    _originals.clear()
    _patched_modules.clear()
