"""Small helpers shared by the packaging tests (tests/packaging/test_*.py)."""
import re
import subprocess
import sys


class Failure(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Failure(msg)


def run(cmd, ok=(0,), **kw):
    """Runs cmd, returns CompletedProcess (text); fails the test on an unexpected exit status."""
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    kw.setdefault("timeout", 300)
    proc = subprocess.run(cmd, **kw)
    if ok is not None and proc.returncode not in ok:
        raise Failure("%s exited %d\nstdout:\n%s\nstderr:\n%s" % (
            " ".join(map(str, cmd)), proc.returncode, proc.stdout, proc.stderr))
    return proc


def samples(text):
    """{'name{labels}': value} of the exposition text (comments skipped)."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        key, _, value = line.rpartition(" ")
        out[key] = float(value)
    return out


# Series whose values the packaging tests compare between a reference output and
# the packaged binary's: the headline numbers of the README.
KEY_SERIES = re.compile(
    r"^postfix_smtpd_(connects_total|sasl_authentication_successes_total|"
    r"sasl_authentication_failures_total|sessions_max|relay_denied_total)\{")


def key_numbers(text):
    return {k: v for k, v in samples(text).items() if KEY_SERIES.match(k)}


def main(fn):
    try:
        fn()
    except Failure as e:
        print("FAIL:", e, file=sys.stderr)
        sys.exit(1)
    print("ok")
