"""pkg.mod docstring"""
import sys
print("argv", sys.argv)
print("orig_argv", sys.orig_argv)
print("path0", sys.path[0])
print("name", __name__)
print("spec", __spec__.name, __spec__.origin)
print("loader", type(__loader__).__name__)
print("package", __package__)
print("file", __file__)
print("cached", __cached__)
print("doc", __doc__)
