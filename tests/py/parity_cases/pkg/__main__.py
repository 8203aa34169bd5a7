import sys
print("pkg.__main__ running as", __name__)
print("argv", sys.argv)
print("path0", sys.path[0])
print("spec", __spec__.name, __spec__.parent)
print("package", __package__)
print("file", __file__)
