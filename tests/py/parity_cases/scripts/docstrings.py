"""Module docstring."""
import sys


def function():
    """Function docstring."""


class Klass:
    """Class docstring."""


print("optimize", sys.flags.optimize, "debug", __debug__)
print(repr(__doc__), repr(function.__doc__), repr(Klass.__doc__))
try:
    assert False, "assert ran"
except AssertionError as exc:
    print("assert raised", exc)
else:
    print("assert skipped")
