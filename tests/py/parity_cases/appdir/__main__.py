import sys
import helper
print("app __main__ running as", __name__)
print("argv", sys.argv)
print("path0", sys.path[0])
print("file", __file__)
print("spec", __spec__.name)
print("loader", type(__loader__).__name__)
print("helper from", helper.__file__)
