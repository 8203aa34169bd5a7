"""python3 -m theframework.monkey [--no-MODULE ...] (script | -m module) [args...]

Runs a program with the standard library patched, under plain python3 (with
theframework and its _framework_core extension importable). tfpython does
this by itself; this entry point exists for environments that must keep
python3 as the interpreter.
"""
import runpy
import sys


def main(argv):
    from theframework import monkey, hub
    options = {}
    while argv and argv[0].startswith("--no-"):
        options[argv.pop(0)[5:]] = False
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if argv else 2
    if argv[0] == "-m":
        if len(argv) < 2:
            print("-m needs a module name", file=sys.stderr)
            return 2
        module, args = argv[1], argv[2:]
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
    hub.run(program)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
