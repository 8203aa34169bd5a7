"""restore()'s second pass, over the whole standard library: a module first
imported while patched copied some replacements under its own names
(threading's ``_allocate_lock = _thread.allocate_lock``, signal's ``from
_signal import *``, selectors' ``_selector_cls = select.poll``) and made its
module-level locks from the cooperative ones (threading's
``_active_limbo_lock``, logging's ``_lock``). python3 would have given it
the originals: so does this pass."""
import sys
import types


def _stdlib_modules():
    stdlib = sys.stdlib_module_names
    for name, module in list(sys.modules.items()):
        if isinstance(module, types.ModuleType) and name.partition(".")[0] in stdlib:
            yield name, module


def _unheld(lock):
    if hasattr(lock, "_is_owned") and lock._is_owned():
        return False  # an RLock this thread holds
    if not lock.acquire(False):
        return False
    lock.release()
    return True


def copies_in_stdlib(original_of, set_attribute):
    """Run once the registry's originals are back (so _thread is python3's)."""
    import _thread
    from theframework._core import core
    fresh_lock = {core.LockType: _thread.allocate_lock, core.RLock: _thread.RLock}
    for name, module in _stdlib_modules():
        namespace = vars(module)
        for attribute, value in list(namespace.items()):
            found = original_of(value)
            if found is not value:
                namespace[attribute] = found
            elif type(value) in fresh_lock and _unheld(value):
                namespace[attribute] = fresh_lock[type(value)]()
            elif isinstance(value, type) and value.__module__ == name:
                for key, item in list(vars(value).items()):
                    found = original_of(item)
                    if found is not item:
                        set_attribute(value, key, found)
