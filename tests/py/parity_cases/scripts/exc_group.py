def fail():
    raise ExceptionGroup("several", [ValueError("one"), TypeError("two")])


try:
    fail()
except* ValueError as eg:
    print("handled", eg.exceptions)
