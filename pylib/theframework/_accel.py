"""The accelerator module: builtin in tfpython, an extension module
(_framework_accel) next to the package under plain python3."""
import _framework_accel as accel

__all__ = ["accel"]
