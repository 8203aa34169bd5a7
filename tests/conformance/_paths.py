"""Where the conformance runner's files and interpreters are."""
import os

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
RESULTS = os.path.join(HERE, "results")
SHIM = os.path.join(HERE, "_regrtest_shim.py")
KNOWN_FAILURES = os.path.join(HERE, "known_failures.txt")
PYTHON = "/usr/bin/python3.11"
DEFAULT_TFPYTHON = os.path.join(REPO, "build", "default", "tfpython")
