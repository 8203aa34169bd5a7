def parse(text):
    return int(text)


def load(text):
    try:
        return parse(text)
    except ValueError as exc:
        raise RuntimeError("cannot load %r" % text) from exc


print("before the error")
load("not a number")
print("never printed")
