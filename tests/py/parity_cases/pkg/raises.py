def fail():
    raise LookupError("raised by pkg.raises")


fail()
