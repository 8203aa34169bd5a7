"""python3 -m theframework.monkey [--verbose] [--no-MODULE ...] [--no-accelerate] [--module | -m] [--] target [args...]

Runs a program with the standard library patched and accelerated
(theframework.accel), under plain python3 (with theframework and its
_framework_core and _framework_accel extensions importable). tfpython does
this by itself; this entry point exists for environments that must keep
python3 as the interpreter.

  --no-MODULE      leave MODULE unpatched (--no-socket, --no-ssl, ...)
  --no-accelerate  no C stand-ins: email.parser and email.utils stay pure Python
  --module, -m     target is a module run as `python3 -m` runs it
  --verbose        say which modules were patched and accelerated, on stderr
  --               the end of the options: target follows, even if it starts with -
"""
import runpy
import sys


def _usage_error(message):
    print("usage: python3 -m theframework.monkey [--verbose] [--no-MODULE ...] [--no-accelerate] [--module] [--] "
          "target [args...]",
          file=sys.stderr)
    print("python3 -m theframework.monkey: error: " + message, file=sys.stderr)
    return 2


def main(argv):
    from theframework import accel, monkey, hub
    options = {}
    as_module = verbose = False
    accelerate = True
    while argv and argv[0].startswith("-"):
        arg = argv.pop(0)
        if arg == "--":
            break
        if arg in ("-h", "--help"):
            print(__doc__.strip())
            return 0
        if arg in ("-m", "--module"):
            as_module = True
            break  # the module name follows, as with python3 -m
        if arg == "--verbose":
            verbose = True
        elif arg == "--no-accelerate":
            accelerate = False
        elif arg.startswith("--no-") and arg[5:] in monkey.PATCH_MODULES:
            options[arg[5:]] = False
        elif arg.startswith("--no-"):
            return _usage_error("no patch for module %r (patched: %s)" % (arg[5:], ", ".join(monkey.PATCH_MODULES)))
        else:
            return _usage_error("unknown option " + arg)
    if not argv:
        return _usage_error("a module name is needed after --module" if as_module
                            else "a script or --module name is needed")
    if as_module:
        module, args = argv[0], argv[1:]
        sys.argv[:] = [module] + args

        def target():
            runpy.run_module(module, run_name="__main__", alter_sys=True)
    else:
        path, args = argv[0], argv[1:]
        sys.argv[:] = [path] + args

        def target():
            runpy.run_path(path, run_name="__main__")
    import theframework

    def program():
        # What tfpython's launcher does around the program: the main thread
        # is this greenlet, and non-daemon threads are joined inside the hub
        # (after it, threading._shutdown would wait for them forever).
        theframework._program_started()
        try:
            target()
        finally:
            theframework._program_finished()

    monkey.patch_all(**options)
    if accelerate:
        accel.accelerate()
    if verbose:
        patched = [name for name in monkey.PATCH_MODULES if monkey.is_module_patched(name)]
        later = [name for name in monkey.PATCH_MODULES if monkey._hook and name in monkey._hook.pending]
        print("theframework.monkey: patched: %s; when first imported: %s; accelerators: %s"
              % (", ".join(patched) or "-", ", ".join(later) or "-",
                 ", ".join(accel.ACCELERATED) if accelerate else "off"), file=sys.stderr)
    hub.run(program)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
