"""What the conformance runner runs: the interpreters, the modules of
--full and --quick, their regrtest options, the time budgets, and which
jobs start first."""
import json
import os

from _paths import RESULTS


INTERPRETERS = ("python", "gevent", "tfpython")
LABELS = {"python": "python3.11", "gevent": "gevent", "tfpython": "tfpython"}

FULL_MODULES = [
    "test_socket", "test_ssl", "test_select", "test_selectors", "test_poll",
    "test_time", "test_timeout", "test_threading", "test_thread",
    "test_threading_local", "test_queue", "test_concurrent_futures",
    "test_subprocess", "test_signal", "test_os", "test_socketserver",
    "test_httplib", "test_httpservers", "test_urllib2_localnet", "test_ftplib",
    "test_smtplib", "test_xmlrpc", "test_poplib", "test_imaplib", "test_wsgiref",
    "test_logging", "test_asyncore", "test_email",
]

# The CI subset: modules that take a few seconds each under python3.11 and
# exercise what tfpython makes cooperative (sleep, select/poll/selectors,
# socket timeouts, locks and queues, loopback servers). Chosen from measured
# durations; see README.md. Must stay well under ~5 minutes on 2 cores.
QUICK_MODULES = [
    "test_select", "test_selectors", "test_poll", "test_time", "test_timeout",
    "test_thread", "test_threading_local", "test_queue", "test_socketserver",
    "test_smtplib", "test_poplib", "test_wsgiref", "test_os", "test_httplib",
    "test_httpservers", "test_urllib2_localnet", "test_asyncore", "test_ftplib",
]

# Per-module regrtest options. Only the `network` resource is ever enabled and
# only where every test that then runs stays on loopback:
#  * test_socketserver: the whole module is gated on `network`, but it only
#    serves on localhost / AF_UNIX.
#  * test_timeout: gated on `network` in setUpModule; TCPTimeoutTestCase is
#    ignored because its setUp resolves www.python.org (a real DNS lookup) and
#    testRecvTimeout connects there. The creation tests and the UDP recvfrom
#    timeout stay on loopback.
# Environment exclusions (same for every interpreter):
#  * test_socket ThreadedVSOCKSocketStreamTest: AF_VSOCK to this VM's own CID
#    goes through the hypervisor's virtio-vsock transport, not loopback; on the
#    CI VM it hangs until the module timeout even under python3.11.
# Everything else runs with no resource enabled (-u none), so CPython's own
# "network" tests (test_ssl NetworkedTests, test_httplib test_networked_*,
# test_socket test_idna, test_imaplib Remote*) are skipped.
MODULE_OPTIONS = {
    "test_socketserver": {"resources": ["network"]},
    "test_timeout": {"resources": ["network"], "ignore": ["TCPTimeoutTestCase"]},
    "test_socket": {"ignore": ["ThreadedVSOCKSocketStreamTest"]},
}

# Modules that must not run next to any other job (timing-sensitive under
# load). Empty: CPython's own `-j` runs these modules concurrently too, and each
# process works in its own temporary directory with ephemeral ports.
EXCLUSIVE_MODULES = set()

# Module budget (wall seconds for all attempts of one module) and watchdog
# (seconds without a test starting or finishing). The slowest single test under
# python3.11 here takes ~30 s (test_signal's siginterrupt tests).
FULL_TIMEOUT = 600
FULL_TEST_TIMEOUT = 120
QUICK_TIMEOUT = 180
QUICK_TEST_TIMEOUT = 30
# --quick also has an overall deadline so that CI stays within ~5 minutes even
# when every module hangs: jobs still running then are stopped (timeout) and
# jobs not started are recorded as "not-run" (a failure).
QUICK_DEADLINE = 270

# Rough python3.11 durations in seconds (2-core VM), used to start the longest
# jobs first when no previous results exist.
ESTIMATES = {
    "test_concurrent_futures": 200, "test_subprocess": 120, "test_socket": 90,
    "test_signal": 60, "test_threading": 40, "test_logging": 40,
    "test_ssl": 30, "test_os": 20, "test_httpservers": 15,
    "test_socketserver": 10, "test_asyncore": 10, "test_ftplib": 10,
    "test_queue": 10, "test_urllib2_localnet": 8, "test_xmlrpc": 8,
    "test_imaplib": 8, "test_smtplib": 5, "test_poplib": 5, "test_httplib": 5,
    "test_email": 6,
}


def previous_durations():
    out = {}
    for name in ("latest.json", "quick.json"):
        try:
            with open(os.path.join(RESULTS, name), encoding="utf-8") as f:
                data = json.load(f)
        except (OSError, ValueError):
            continue
        for r in data.get("results", []):
            out.setdefault((r["module"], r["interpreter"]), r["duration"])
    return out
