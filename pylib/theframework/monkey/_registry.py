"""The one registry of what was patched and what it replaced."""

#: (module name, attribute) -> (the original value or MISSING, whether the
#: owner held it in its own __dict__ rather than inheriting it)
_originals = {}
#: id(replacement) -> (replacement, (module name, attribute) it stands in for):
#: how restore() recognises a replacement a module copied under another name
_replacements = {}
#: (module name, attribute) -> what get_original() gives, though restore()
#: leaves the attribute as it is (threading.Thread: a real thread's class)
_alternates = {}
#: module names whose patch has been applied
_patched_modules = set()
#: id -> module object for every copy patched (kept alive so ids stay unique)
_patched_objects = {}


class _Missing:
    def __repr__(self):
        return "MISSING"


MISSING = _Missing()


def _holds_itself(owner, attribute):
    own = getattr(owner, "__dict__", None)
    return own is None or attribute in own


def remember(module_name, attribute, owner, last):
    """Record what owner.last is before it is replaced (the registry's name
    for it: module_name, attribute). Only the first original counts:
    patching twice must not record our own replacement as "the original"."""
    key = (module_name, attribute)
    if key not in _originals:
        _originals[key] = (getattr(owner, last, MISSING), _holds_itself(owner, last))


def replaced_by(module_name, attribute, replacement):
    # The first name a replacement was put under is the one it stands for
    # (_thread.allocate_lock before threading.Lock).
    _replacements.setdefault(id(replacement), (replacement, (module_name, attribute)))


def remember_alternate(module_name, attribute, value):
    _alternates[(module_name, attribute)] = value


def original(module_name, attribute, current):
    if (module_name, attribute) in _alternates:
        return _alternates[(module_name, attribute)]
    return _originals.get((module_name, attribute), (current, True))[0]


def original_of_replacement(value):
    """What value stands in for, when it is one of our replacements (followed
    through replacements recorded as originals); else value itself."""
    for _ in range(8):
        entry = _replacements.get(id(value))
        if entry is None or entry[0] is not value:
            return value
        found, _own = _originals.get(entry[1], (MISSING, True))
        if found is MISSING:
            return value
        value = found
    return value


def is_saved(module_name, attribute):
    return (module_name, attribute) in _originals


def mark_patched(module_name, module):
    _patched_modules.add(module_name)
    _patched_objects[id(module)] = module


def is_patched_object(module):
    return _patched_objects.get(id(module)) is module


def patched_objects():
    return list(_patched_objects.values())


def is_patched(module_name):
    return module_name in _patched_modules


def items():
    """((module name, attribute), (original, held by the owner itself))."""
    return list(_originals.items())


def forget_all():
    _originals.clear()
    _replacements.clear()
    _alternates.clear()
    _patched_modules.clear()
    _patched_objects.clear()
