"""tornado's own test suite (tornado.test.runtests, exactly as its main()
sets it up), with one addition: each test's outcome is counted per test
module and written as JSON to the file named by argv[1]."""
import collections
import json
import sys
import unittest

from tornado.test import runtests

_report = sys.argv.pop(1)
_counts = collections.defaultdict(collections.Counter)


def _module_of(test):
    if type(test).__name__ == "DocTestCase":
        return "doctests"
    if type(test).__name__ == "_ErrorHolder":
        return "load errors"
    return type(test).__module__


class CountingResult(unittest.TextTestResult):
    def addSuccess(self, test):
        super().addSuccess(test)
        _counts[_module_of(test)]["ok"] += 1

    def addFailure(self, test, err):
        super().addFailure(test, err)
        _counts[_module_of(test)]["failed"] += 1

    def addError(self, test, err):
        super().addError(test, err)
        _counts[_module_of(test)]["errors"] += 1

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        _counts[_module_of(test)]["skipped"] += 1

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        _counts[_module_of(test)]["ok"] += 1

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        _counts[_module_of(test)]["failed"] += 1


_original_factory = runtests.test_runner_factory


def _counting_factory(stderr):
    base = _original_factory(stderr)

    class Runner(base):
        resultclass = CountingResult

        def run(self, test):
            try:
                return super().run(test)
            finally:
                with open(_report, "w") as f:
                    json.dump({m: dict(c) for m, c in sorted(_counts.items())}, f)
    return Runner


runtests.test_runner_factory = _counting_factory
all = runtests.all  # noqa: A001 -- tornado.testing.main() runs __main__.all by default
runtests.main()
