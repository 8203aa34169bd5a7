"""show.py docstring"""
print("globals", sorted(globals()))
import sys
print("argv", sys.argv)
print("path0", sys.path[0])
print("file", __file__)
print("name", __name__)
print("spec", __spec__)
print("loader", type(__loader__).__name__, __loader__.name, __loader__.path)
print("cached", __cached__)
print("package", __package__)
print("doc", __doc__)
print("builtins", type(__builtins__).__name__)
import __main__
print("main dict is globals", __main__.__dict__ is globals())
