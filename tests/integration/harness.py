"""Shared helpers of the integration tests: run the real exporter binary,
scrape it over HTTP, write real-format Postfix log lines, and count what they
should produce.

Every process a test starts is an `Exporter`; its `close()` (called from the
test's cleanup, i.e. a finally) kills it by pid if it is still running.
Waiting is always polling with a bounded deadline; no test asserts a timing.
"""
import datetime
import os
import re
import signal
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.request

# Generous: the whole suite shares 2 cores with builds and other tests. A
# deadline only bounds a wait; reaching it is a failure, never a pass.
DEADLINE_S = 15.0
POLL_S = 0.05

BINARY = None  # set by main() from argv[1]


def free_port():
    """A TCP port that was free a moment ago (the exporter does not print the
    port it bound, so it cannot be given port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+\d+)?$')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def sample_key(name, labels=None):
    """Canonical key of one sample: name{a="x",b="y"} with labels sorted."""
    if not labels:
        return name
    return name + "{" + ",".join('%s="%s"' % (k, labels[k]) for k in sorted(labels)) + "}"


def parse_metrics(text):
    """Prometheus text format -> {sample_key: float}. Fails on a line that is
    neither a comment nor a sample, and on a sample that appears twice."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        if m is None:
            raise AssertionError("not a sample line: %r" % line)
        labels = dict(_LABEL.findall(m.group(3) or ""))
        key = sample_key(m.group(1), labels)
        if key in out:
            raise AssertionError("sample appears twice: %s" % key)
        out[key] = float(m.group(4))
    return out


def family(samples, name):
    """The samples of one metric family (exact name, any labels)."""
    return {k: v for k, v in samples.items() if k == name or k.startswith(name + "{")}


def http_get(url, headers=None, timeout=5):
    """(status, headers, body bytes); HTTP errors are answers, not exceptions."""
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


class Exporter:
    """One run of the real binary in daemon mode (or any mode: `args` are
    passed as they are). stderr goes to a file so a failure can show it."""

    def __init__(self, workdir, args, name="exporter", port=None, listen=True, stdin=None,
                 env=None):
        self.port = port if port is not None else free_port()
        self.base = "http://127.0.0.1:%d" % self.port
        argv = [BINARY] + list(args)
        if listen:
            argv.append("--web.listen-address=127.0.0.1:%d" % self.port)
        self.stderr_path = os.path.join(workdir, name + ".stderr")
        self._stderr = open(self.stderr_path, "wb")
        full_env = dict(os.environ, TZ="UTC")
        full_env.update(env or {})
        self.proc = subprocess.Popen(argv, stdin=stdin if stdin is not None else subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=self._stderr, env=full_env)
        self.pid = self.proc.pid

    def stderr(self):
        self._stderr.flush()
        with open(self.stderr_path, "rb") as f:
            return f.read().decode(errors="replace")

    def alive(self):
        return self.proc.poll() is None

    def get(self, path, headers=None):
        return http_get(self.base + path, headers)

    def wait_http(self, deadline=DEADLINE_S):
        """Until the listener answers (any status); fails if the process died."""
        end = time.monotonic() + deadline
        last = None
        while time.monotonic() < end:
            if not self.alive():
                raise AssertionError("exporter exited with %s before serving HTTP:\n%s"
                                     % (self.proc.returncode, self.stderr()))
            try:
                return self.get("/-/healthy")
            except OSError as e:  # connection refused until it listens
                last = e
            time.sleep(POLL_S)
        raise AssertionError("no HTTP answer within %ss (%s):\n%s" % (deadline, last, self.stderr()))

    def wait_ready(self, deadline=DEADLINE_S):
        self.wait_http(deadline)
        return self.wait_for(lambda: self.get("/-/ready")[0] == 200, "/-/ready is 200", deadline)

    def scrape(self, path="/metrics"):
        status, _, body = self.get(path)
        if status != 200:
            raise AssertionError("GET %s: %d %r" % (path, status, body[:200]))
        return parse_metrics(body.decode())

    def wait_for(self, predicate, what, deadline=DEADLINE_S):
        """Polls `predicate()` until true; fails with `what` at the deadline."""
        end = time.monotonic() + deadline
        while True:
            if not self.alive():
                raise AssertionError("exporter exited with %s while waiting for %s:\n%s"
                                     % (self.proc.returncode, what, self.stderr()))
            try:
                if predicate():
                    return True
            except OSError:
                pass
            if time.monotonic() >= end:
                raise AssertionError("not reached within %ss: %s\n--- stderr:\n%s"
                                     % (deadline, what, self.stderr()))
            time.sleep(POLL_S)

    def wait_metrics(self, expected, families, path="/metrics", deadline=DEADLINE_S):
        """Polls until every sample of `families` equals `expected` (absent
        keys mean 0) and every key of `expected` is present. Counters only
        grow, so a value above the expected one fails at once. Returns the
        last scrape."""
        end = time.monotonic() + deadline
        while True:
            if not self.alive():
                raise AssertionError("exporter exited with %s:\n%s" % (self.proc.returncode,
                                                                       self.stderr()))
            got = self.scrape(path)
            diff = diff_samples(got, expected, families)
            if not diff:
                return got
            over = [d for d in diff if d[2] is not None and d[1] is not None and d[2] > d[1]
                    and "_total" in d[0]]
            if over or time.monotonic() >= end:
                raise AssertionError(
                    "metrics differ (key, expected, actual):\n  %s\n--- stderr:\n%s"
                    % ("\n  ".join(map(repr, diff)), self.stderr()))
            time.sleep(POLL_S)

    def send(self, sig):
        os.kill(self.pid, sig)

    def stop(self, sig=signal.SIGTERM, deadline=DEADLINE_S):
        """Sends `sig` and returns the exit status (bounded wait)."""
        self.send(sig)
        try:
            return self.proc.wait(timeout=deadline)
        except subprocess.TimeoutExpired:
            raise AssertionError("exporter did not exit within %ss after signal %d:\n%s"
                                 % (deadline, sig, self.stderr()))

    def close(self):
        if self.proc.poll() is None:
            os.kill(self.pid, signal.SIGKILL)
            self.proc.wait()
        if self.proc.stdin is not None:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
        self._stderr.close()


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


# --- Postfix log lines ----------------------------------------------------

LINES = "postfix_exporter_log_lines_total"
CONNECTS = "postfix_smtpd_connects_total"
DISCONNECTS = "postfix_smtpd_disconnects_total"
SESSIONS = "postfix_smtpd_sessions"
SESSIONS_MAX = "postfix_smtpd_sessions_max"
SUCCESSES = "postfix_smtpd_sasl_authentication_successes_total"
FAILURES = "postfix_smtpd_sasl_authentication_failures_total"
RELAY = "postfix_smtpd_relay_denied_total"
REJECTED = "postfix_smtpd_messages_rejected_total"
PROCESSED = "postfix_smtpd_messages_processed_total"
MALFORMED = "postfix_exporter_log_lines_malformed_total"
UNRECOGNIZED = "postfix_exporter_smtpd_lines_unrecognized_total"
BACKEND = "postfix_smtpd_sasl_backend_errors_total"

# Families whose every sample is checked against the expectation.
COUNTED = (LINES, CONNECTS, DISCONNECTS, SESSIONS, SUCCESSES, FAILURES, RELAY, REJECTED,
           PROCESSED, MALFORMED, UNRECOGNIZED, BACKEND)


class MailLog:
    """Writes real-format Postfix sessions and keeps the metrics they must
    produce. Every session gets its own smtpd pid and its own log second, so
    sessions never interfere; BSD timestamps need --postfix.syslog_year=2024
    and TZ=UTC, RFC 3339 ones are unambiguous."""

    START = datetime.datetime(2024, 5, 14, 10, 0, 0, tzinfo=datetime.timezone.utc)

    def __init__(self, bsd=False, first_pid=3000, first_second=0):
        self.bsd = bsd
        self.pid = first_pid
        self.second = first_second
        self.expected = {}

    def _count(self, key, n=1):
        self.expected[key] = self.expected.get(key, 0) + n

    def _service_zero(self, service):
        # Every known label value exists at 0 once a service is seen; only the
        # ones the tests look at are listed, the rest are checked as "0".
        for name in (CONNECTS, DISCONNECTS, SESSIONS, SUCCESSES, RELAY):
            self.expected.setdefault(sample_key(name, {"service": service}), 0)

    def _line(self, syslog_name, pid, message):
        t = self.START + datetime.timedelta(seconds=self.second)
        self.second += 1
        if self.bsd:
            stamp = "%s %2d %s" % (t.strftime("%b"), t.day, t.strftime("%H:%M:%S"))
        else:
            stamp = t.strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")
        self._count(LINES)
        return "%s mail %s[%d]: %s\n" % (stamp, syslog_name, pid, message)

    def _next_pid(self):
        self.pid += 1
        return self.pid

    def failed_login(self, service="submission"):
        """A client whose LOGIN fails with the stale challenge (bad_credentials)."""
        pid, name = self._next_pid(), self._syslog_name(service)
        self._service_zero(service)
        text = (self._line(name, pid, "connect from unknown[192.0.2.1]")
                + self._line(name, pid, "warning: unknown[192.0.2.1]: SASL LOGIN authentication "
                             "failed: UGFzc3dvcmQ6")
                + self._line(name, pid, "disconnect from unknown[192.0.2.1] ehlo=1 auth=0/1 "
                             "quit=1 commands=2/3"))
        self._count(sample_key(CONNECTS, {"service": service}))
        self._count(sample_key(DISCONNECTS, {"service": service}))
        self._count(sample_key(FAILURES, {"method": "LOGIN", "reason": "bad_credentials",
                                          "service": service}))
        return text

    def backend_down(self, service="submission"):
        """saslauthd is down: a companion line, then the failure (backend_unavailable)."""
        pid, name = self._next_pid(), self._syslog_name(service)
        self._service_zero(service)
        text = (self._line(name, pid, "connect from mail-wr1-f45.google.com[209.85.221.45]")
                + self._line(name, pid, "warning: SASL authentication failure: cannot connect to "
                             "saslauthd server: Resource temporarily unavailable")
                + self._line(name, pid, "warning: mail-wr1-f45.google.com[209.85.221.45]: SASL "
                             "PLAIN authentication failed: generic failure")
                + self._line(name, pid, "disconnect from mail-wr1-f45.google.com[209.85.221.45] "
                             "ehlo=2 starttls=1 auth=0/1 quit=1 commands=4/5"))
        self._count(sample_key(CONNECTS, {"service": service}))
        self._count(sample_key(DISCONNECTS, {"service": service}))
        self._count(sample_key(FAILURES, {"method": "PLAIN", "reason": "backend_unavailable",
                                          "service": service}))
        self._count(sample_key(BACKEND, {"service": service}))
        return text

    def sent_mail(self, service="submission"):
        """An authenticated client that sends one message."""
        pid, name = self._next_pid(), self._syslog_name(service)
        self._service_zero(service)
        text = (self._line(name, pid, "connect from client.example.net[198.51.100.7]")
                + self._line(name, pid, "4VfXyz1abcz9sT: client=client.example.net[198.51.100.7],"
                             " sasl_method=PLAIN, sasl_username=alice@example.org")
                + self._line(name, pid, "disconnect from client.example.net[198.51.100.7] ehlo=2 "
                             "starttls=1 auth=1 mail=1 rcpt=1 data=1 quit=1 commands=8"))
        self._count(sample_key(CONNECTS, {"service": service}))
        self._count(sample_key(DISCONNECTS, {"service": service}))
        self._count(sample_key(SUCCESSES, {"service": service}))
        self._count(sample_key(PROCESSED, {"sasl_method": "PLAIN", "service": service}))
        return text

    def relay_denied(self, service="smtp"):
        """A spammer trying to relay: 554 Relay access denied."""
        pid, name = self._next_pid(), self._syslog_name(service)
        self._service_zero(service)
        text = (self._line(name, pid, "connect from unknown[203.0.113.9]")
                + self._line(name, pid, "NOQUEUE: reject: RCPT from unknown[203.0.113.9]: 554 "
                             "5.7.1 <info@example.com>: Relay access denied; from=<spam@example.biz>"
                             " to=<info@example.com> proto=ESMTP helo=<spam.example.biz>")
                + self._line(name, pid, "disconnect from unknown[203.0.113.9] ehlo=1 mail=1 "
                             "rcpt=0/1 quit=1 commands=3/4"))
        self._count(sample_key(CONNECTS, {"service": service}))
        self._count(sample_key(DISCONNECTS, {"service": service}))
        self._count(sample_key(RELAY, {"service": service}))
        self._count(sample_key(REJECTED, {"code": "554", "service": service}))
        return text

    def open_session(self, service="submission"):
        """A connect whose disconnect has not come yet: one open session."""
        pid, name = self._next_pid(), self._syslog_name(service)
        self._service_zero(service)
        text = self._line(name, pid, "connect from unknown[198.51.100.99]")
        self._count(sample_key(CONNECTS, {"service": service}))
        self._count(sample_key(SESSIONS, {"service": service}))
        return text

    def mix(self, n=1):
        """`n` rounds of every session kind above except open_session."""
        return "".join(self.failed_login() + self.backend_down() + self.sent_mail()
                       + self.relay_denied() for _ in range(n))

    @staticmethod
    def _syslog_name(service):
        return "postfix/smtpd" if service == "smtp" else "postfix/%s/smtpd" % service

    def lines(self):
        return int(self.expected.get(LINES, 0))

    def reset(self):
        """Fresh counters (a restarted exporter), same pids/clock onwards."""
        self.expected = {}


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
        exp = Exporter(self.dir, args, **kwargs)
        # Cleanups run last-in first-out: processes die before the dir goes.
        self.addCleanup(exp.close)
        return exp


def main(doc):
    import sys
    if len(sys.argv) < 2 or not os.access(sys.argv[1], os.X_OK):
        sys.exit(doc)
    global BINARY
    BINARY = os.path.abspath(sys.argv[1])
    unittest.main(argv=[sys.argv[0]] + sys.argv[2:], verbosity=2)
