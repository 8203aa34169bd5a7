def interrupt():
    raise KeyboardInterrupt


print("about to interrupt")
interrupt()
