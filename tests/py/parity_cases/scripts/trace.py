import sys


def tracer(frame, event, arg):
    if frame.f_code.co_filename == __file__:
        print("trace", event, frame.f_code.co_name, frame.f_lineno)
    return tracer


def profiler(frame, event, arg):
    if event.startswith("c_"):
        print("profile", event, getattr(arg, "__name__", arg))


def work(x):
    y = x + 1
    return y * 2


sys.settrace(tracer)
work(1)
sys.settrace(None)
sys.setprofile(profiler)
len("abc")
sys.setprofile(None)
print("traced frames end")
