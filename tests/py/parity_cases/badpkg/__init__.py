raise RuntimeError("badpkg cannot be imported")
