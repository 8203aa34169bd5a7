import warnings


def old_api():
    warnings.warn("old_api is deprecated", DeprecationWarning, stacklevel=2)


warnings.warn("careful")
old_api()
warnings.warn("a future change", FutureWarning)
print("done warning")
