"""What the integration tests share beyond tests/pylib/psetest.py: a
unittest base class with a temp dir per test and cleanup of every exporter
started in it, and waiting until a daemon's metrics equal a MailLog's
expectation exactly.

Tests assert with psetest.check(); unittest is only the runner (one temp dir
per test, `-k` to pick tests).
"""
import os
import signal
import sys
import tempfile
import time
import unittest

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
import psetest  # noqa: E402
from psetest import DEADLINE_S, POLL_S, TestFailure  # noqa: E402

BINARY = None  # set by main() from argv[1]


def diff_samples(got, expected, families):
    """[(key, expected, actual)] for each mismatch: every sample in `families`
    must equal `expected` (0 when absent from it); every expected key must
    exist."""
    diff = []
    for key, want in sorted(expected.items()):
        have = got.get(key)
        if have != want:
            diff.append((key, want, have))
    for key, have in sorted(got.items()):
        if key in expected:
            continue
        name = key.split("{", 1)[0]
        if name in families and have != 0:
            diff.append((key, 0, have))
    return diff


def wait_metrics(exp, expected, families, path="/metrics", deadline=DEADLINE_S):
    """Polls `exp` (a psetest.Daemon) until every sample of `families` equals
    `expected` (absent keys mean 0) and every key of `expected` is present.
    Counters only grow, so a value above the expected one fails at once.
    Returns the last scrape."""
    end = time.monotonic() + deadline
    while True:
        psetest.check(exp.alive(), "exporter exited with %s:\n%s"
                      % (exp.proc.returncode, exp.stderr()))
        got = exp.scrape(path)
        diff = diff_samples(got, expected, families)
        if not diff:
            return got
        over = [d for d in diff if d[2] is not None and d[1] is not None and d[2] > d[1]
                and "_total" in d[0]]
        if over or time.monotonic() >= end:
            raise TestFailure("metrics differ (key, expected, actual):\n  %s\n--- stderr:\n%s"
                              % ("\n  ".join(map(repr, diff)), exp.stderr()))
        time.sleep(POLL_S)


def expect_status(exp, path, want, headers=None):
    """GET `path` from the daemon answers `want`; returns (status, headers, body)."""
    answer = exp.get(path, headers)
    psetest.check(answer[0] == want, "GET %s: status %d, expected %d" % (path, answer[0], want))
    return answer


def stopped_cleanly(exp, sig=signal.SIGTERM):
    """`sig` makes the daemon exit with status 0."""
    status = exp.stop(sig)
    psetest.check(status == 0, "exit status %s after signal %d, expected 0\n--- stderr:\n%s"
                  % (status, sig, exp.stderr()))


def append(path, text, mode="a"):
    with open(path, mode) as f:
        f.write(text)
        f.flush()


class TempDirTest(unittest.TestCase):
    """A temp dir per test and cleanup of every exporter started in it."""

    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="pse-integration-")
        self.addCleanup(self._tmp.cleanup)
        self.dir = self._tmp.name

    def path(self, name):
        return os.path.join(self.dir, name)

    def start(self, args, **kwargs):
        exp = psetest.Daemon(BINARY, args, self.dir, **kwargs)
        # Cleanups run last-in first-out: processes die before the dir goes.
        self.addCleanup(exp.close)
        return exp


def main(doc):
    if len(sys.argv) < 2 or not os.access(sys.argv[1], os.X_OK):
        sys.exit(doc)
    global BINARY
    BINARY = os.path.abspath(sys.argv[1])
    unittest.main(argv=[sys.argv[0]] + sys.argv[2:], verbosity=2)
