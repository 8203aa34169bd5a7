"""The compiled core: builtin in tfpython, an extension module elsewhere."""
import _framework_core as core

__all__ = ["core"]
