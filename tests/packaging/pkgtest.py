"""What the packaging tests (tests/packaging/test_*.py) share beyond
tests/pylib/psetest.py: running a tool with its output captured, and the
headline numbers compared between a reference run and a packaged binary."""
import os
import re
import subprocess
import sys

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from psetest import TestFailure, parse_exposition  # noqa: E402


def run(cmd, ok=(0,), **kw):
    """Runs cmd, returns CompletedProcess (text); fails the test on an unexpected exit status."""
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    kw.setdefault("timeout", 300)
    proc = subprocess.run(cmd, **kw)
    if ok is not None and proc.returncode not in ok:
        raise TestFailure("%s exited %d\nstdout:\n%s\nstderr:\n%s" % (
            " ".join(map(str, cmd)), proc.returncode, proc.stdout, proc.stderr))
    return proc


# Series whose values the packaging tests compare between a reference output and
# the packaged binary's: the headline numbers of the README.
KEY_SERIES = re.compile(
    r"^postfix_smtpd_(connects_total|sasl_authentication_successes_total|"
    r"sasl_authentication_failures_total|sessions_max|relay_denied_total)\{")


def key_numbers(text):
    return {k: v for k, v in parse_exposition(text).items() if KEY_SERIES.match(k)}
