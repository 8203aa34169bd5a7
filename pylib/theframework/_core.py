"""The compiled core: builtin in tfpython, an extension module elsewhere."""
import types

import _framework_core as core

__all__ = ["core", "hidden"]


def hidden(obj):
    """Our Python-level stand-ins for C functions show no frame in
    tracebacks, as the C functions show none: a function is wrapped (it does
    not bind, like a builtin); a class has its methods wrapped (they bind)."""
    if isinstance(obj, types.FunctionType):
        return core.hide_frames(obj)
    if isinstance(obj, type) and not obj.__dict__.get("_tf_hidden"):
        for name, value in list(vars(obj).items()):
            if isinstance(value, types.FunctionType) and name != "__new__":
                setattr(obj, name, core.hide_frames(value, True))
        obj._tf_hidden = True
    return obj
