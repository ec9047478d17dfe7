"""Shared helpers of the Python tests (tests/*/*.py; bench/ and
tests/dashboards/ may use them too). Python 3 standard library only.

Import it relative to the calling file, so a script runs from any directory:

    sys.dont_write_bytecode = True  # keep the source tree clean
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
    import psetest  # noqa: E402

The whole API (everything else is private):

  check(cond, msg)              THE assertion: raises TestFailure(msg) when cond
                                is false. TestFailure is an AssertionError, so
                                it also fails a unittest test.
  run_main(fn, *args)           runs fn(*args) as a script: "ok" and exit 0, or
                                "FAIL: msg" on stderr and exit 1.
  require_tool(name, package)   path of a tool, or TestFailure naming the tool,
                                its Debian package and scripts/install-deps.sh
                                --test (a missing tool fails; nothing skips).
  require_root(why)             TestFailure unless running as root.
  free_port()                   a TCP port on 127.0.0.1 that was free just now.
  wait_for(pred, what, ...)     polls pred() until truthy (returned) or the
                                deadline: TestFailure "not reached within Ns: what".
  http_get(url, headers)        (status, headers, body bytes); no proxy, bounded.

  parse_exposition(text)        ONE Prometheus text-format parser -> Samples, a
                                dict {sample_key: float} with .value(name,
                                **labels), .total(name), .family(name) and
                                .labels(key). Escapes in label values are
                                understood; a malformed or repeated sample fails.
  sample_key(name, labels)      canonical key: name{a="x",b="y"}, labels sorted.
  check_samples(samples, want)  check() that each {key: value} of `want` is in
                                `samples` (None: absent); lists every mismatch.

  run_once(binary, args)        the exporter in --once mode (TZ=UTC) ->
                                OnceResult(returncode, output, text, stderr,
                                samples); another exit status than
                                expect_status (default 0) fails.
  Daemon(binary, args, workdir) the exporter as a daemon on a free port:
                                wait_http/wait_ready/wait_for/scrape/get/stop/close;
                                stdout discarded unless stdout=<file>.

  log_line(second, program, pid, message)   one BSD-timestamped syslog line,
                                `second` seconds after LOG_EPOCH (2024-05-14
                                10:00:00 UTC: run with --postfix.syslog_year=2024).
  smtpd_program(service)        postfix/smtpd or postfix/<service>/smtpd.
  MailLog                       writes whole Postfix smtpd sessions (connect /
                                disconnect with auth stats, SASL failures,
                                backend errors, relay denials, mail) and keeps
                                the metrics they must produce.
  LINES, CONNECTS, ..., COUNTED metric family names MailLog counts.
  DEADLINE_S, POLL_S            the default wait deadline and poll interval.

Processes a test starts itself (run to a file, pid_alive, children_of,
pids_with_env, kill_pids, read_pidfile) are in the sibling pseproc.py.

Waiting is always polling with a bounded deadline; reaching it is a failure,
never a pass. No helper asserts a timing.
"""
import datetime
import functools
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

# Generous: the suites share 2 cores with builds and other tests. A deadline
# only bounds a wait.
DEADLINE_S = 15.0
POLL_S = 0.05
INSTALL_HINT = "scripts/install-deps.sh --test"


# --- assertions and script plumbing ----------------------------------------

class TestFailure(AssertionError):
    """A failed expectation of a test."""


def check(cond, msg):
    """The one assertion of the Python tests."""
    if not cond:
        raise TestFailure(msg)


def run_main(fn, *args):
    """Runs a check()-style test script's body and exits 0 or 1. Any
    exception is a failure; TestFailure prints only its message."""
    try:
        fn(*args)
    except TestFailure as e:
        print("FAIL:", e, file=sys.stderr, flush=True)
        sys.exit(1)
    print("ok", flush=True)


def require_tool(name, package, path=None):
    """Path of `name` (a command, or an absolute path), searched in PATH or in
    `path` (os.pathsep-separated). A missing tool is a test failure."""
    found = shutil.which(name, path=path)
    check(found, "missing tool %s (Debian package %s): run %s"
          % (name, package, INSTALL_HINT))
    return found


def require_root(why):
    check(os.geteuid() == 0, "must run as root: %s" % why)


def free_port():
    """A TCP port that was free a moment ago (the exporter does not print the
    port it bound, so it cannot be given port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, what, deadline=DEADLINE_S, interval=POLL_S, context=None):
    """Polls `predicate()` until it returns something truthy, and returns that.
    OSError from the predicate means "not yet" (e.g. connection refused until
    a server listens); TestFailure from it fails at once. At the deadline:
    TestFailure naming `what`, plus `context()` (e.g. a process's stderr)."""
    end = time.monotonic() + deadline
    last = None
    while True:
        try:
            value = predicate()
            if value:
                return value
        except OSError as e:
            last = e
        if time.monotonic() >= end:
            msg = "not reached within %gs: %s" % (deadline, what)
            if last is not None:
                msg += " (last error: %s)" % last
            if context is not None:
                msg += "\n--- " + context()
            raise TestFailure(msg)
        time.sleep(interval)


_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http_get(url, headers=None, timeout=5):
    """(status, headers, body bytes); HTTP errors are answers, not exceptions.
    Never goes through http_proxy: every test server is on loopback."""
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with _NO_PROXY.open(req, timeout=timeout) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


# --- the exposition format ---------------------------------------------------

_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?[ \t]+(\S+)(?:[ \t]+-?\d+)?$')
_LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(,|$)')
_UNESCAPE = {"\\\\": "\\", '\\"': '"', "\\n": "\n"}


def _escape(value):
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def sample_key(name, labels=None):
    """Canonical key of one sample: name{a="x",b="y"} with labels sorted and
    values escaped as in the text format."""
    if not labels:
        return name
    return name + "{" + ",".join('%s="%s"' % (k, _escape(str(labels[k])))
                                 for k in sorted(labels)) + "}"


def _parse_labels(text, line):
    labels = {}
    pos = 0
    while pos < len(text):
        m = _LABEL.match(text, pos)
        check(m, "bad label set in exposition line: %r" % line[:200])
        check(m.group(1) not in labels, "label %s repeated: %r" % (m.group(1), line[:200]))
        labels[m.group(1)] = re.sub(r'\\[\\"n]', lambda e: _UNESCAPE[e.group(0)], m.group(2))
        pos = m.end()
        if not m.group(3):
            break
    check(pos >= len(text), "bad label set in exposition line: %r" % line[:200])
    return labels


class Samples(dict):
    """{sample_key: float value} of one exposition."""

    def __init__(self):
        super().__init__()
        self._parts = {}  # key -> (name, labels dict)

    def add(self, name, labels, value):
        key = sample_key(name, labels)
        check(key not in self, "sample appears twice: %s" % key)
        self[key] = value
        self._parts[key] = (name, labels)

    def labels(self, key):
        return dict(self._parts[key][1])

    def value(self, name, **labels):
        """The sample with exactly these labels; None if there is none."""
        return self.get(sample_key(name, labels))

    def family(self, name):
        """{key: value} of one metric family (exact name, any labels)."""
        return {k: v for k, v in self.items() if self._parts[k][0] == name}

    def total(self, name):
        """Sum over every sample of a family."""
        return sum(self.family(name).values())


def parse_exposition(text):
    """Prometheus text format (str, or bytes decoded leniently) -> Samples.
    Fails on a line that is neither a comment nor a sample, and on a sample
    that appears twice."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    out = Samples()
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        check(m, "not a sample line: %r" % line[:200])
        try:
            value = float(m.group(3))
        except ValueError:
            raise TestFailure("bad sample value: %r" % line[:200])
        out.add(m.group(1), _parse_labels(m.group(2) or "", line), value)
    return out


def check_samples(samples, want, what="metrics"):
    """check() that every key of `want` has exactly its value in `samples`
    (None: the sample must be absent); one failure lists every mismatch."""
    diff = [(k, v, samples.get(k)) for k, v in sorted(want.items()) if samples.get(k) != v]
    check(not diff, "%s differ (key, expected, actual):\n  %s"
          % (what, "\n  ".join(map(repr, diff))))


# --- the exporter --------------------------------------------------------------

def _env(extra=None):
    env = dict(os.environ, TZ="UTC")
    env.update(extra or {})
    return env


class OnceResult:
    def __init__(self, returncode, output, stderr):
        self.returncode = returncode
        self.output = output          # bytes: the exposition text
        self.stderr = stderr          # str
        self._samples = None

    @property
    def text(self):
        return self.output.decode("utf-8", "replace")

    @property
    def samples(self):
        if self._samples is None:
            self._samples = parse_exposition(self.output)
        return self._samples


def run_once(binary, args, wrapper=(), env=None, timeout=120, expect_status=0):
    """Runs `[*wrapper, binary, "--once", *args]` with TZ=UTC to completion.
    Output goes to temporary files, not pipes, so the child never blocks on
    us. A hang past `timeout` and (unless expect_status is None) another exit
    status are failures naming the stderr."""
    cmd = list(wrapper) + [binary, "--once"] + list(args)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                env=_env(env))
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise TestFailure("%s did not exit within %ss" % (" ".join(cmd), timeout))
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        out.seek(0)
        err.seek(0)
        res = OnceResult(proc.returncode, out.read(), err.read().decode("utf-8", "replace"))
    if expect_status is not None:
        check(res.returncode == expect_status, "%s exited %d, expected %d; stderr:\n%s"
              % (" ".join(cmd), res.returncode, expect_status, res.stderr[-4000:]))
    return res


class Daemon:
    """One run of the real binary, by default in daemon mode listening on a
    free loopback port (`listen=False`: `args` say where). stderr goes to a
    file in `workdir` so a failure can show it. close() kills it by pid if it
    still runs: call it from a finally or a unittest cleanup."""

    def __init__(self, binary, args, workdir, name="exporter", port=None, listen=True,
                 stdin=None, env=None, stdout=None):
        self.port = port if port is not None else free_port()
        self.base = "http://127.0.0.1:%d" % self.port
        argv = [binary] + list(args)
        if listen:
            argv.append("--web.listen-address=127.0.0.1:%d" % self.port)
        self.stderr_path = os.path.join(workdir, name + ".stderr")
        self._stderr = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(argv, stdin=stdin if stdin is not None else subprocess.DEVNULL,
                                     stdout=stdout if stdout is not None else subprocess.DEVNULL,
                                     stderr=self._stderr, env=_env(env))
        self.pid = self.proc.pid

    def stderr(self):
        self._stderr.flush()
        with open(self.stderr_path, "rb") as f:
            return f.read().decode(errors="replace")

    def _context(self):
        return "exporter stderr:\n" + self.stderr()[-4000:]

    def alive(self):
        return self.proc.poll() is None

    def get(self, path, headers=None):
        return http_get(self.base + path, headers)

    def wait_for(self, predicate, what, deadline=DEADLINE_S):
        """wait_for() that also fails at once when the process has exited."""
        def step():
            check(self.alive(), "exporter exited with %s while waiting for %s\n--- %s"
                  % (self.proc.returncode, what, self._context()))
            return predicate()
        return wait_for(step, what, deadline, context=self._context)

    def wait_http(self, deadline=DEADLINE_S):
        """Until the listener answers (any status)."""
        return self.wait_for(lambda: self.get("/-/healthy"), "an HTTP answer", deadline)

    def wait_ready(self, deadline=DEADLINE_S):
        self.wait_http(deadline)
        return self.wait_for(lambda: self.get("/-/ready")[0] == 200, "/-/ready is 200", deadline)

    def scrape(self, path="/metrics"):
        """One bounded GET of `path`, parsed; a non-200 answer fails."""
        status, _, body = self.get(path)
        check(status == 200, "GET %s: %d %r" % (path, status, body[:200]))
        return parse_exposition(body.decode())

    def send(self, sig):
        os.kill(self.pid, sig)

    def stop(self, sig=signal.SIGTERM, deadline=DEADLINE_S):
        """Sends `sig` and returns the exit status (bounded wait)."""
        self.send(sig)
        try:
            return self.proc.wait(timeout=deadline)
        except subprocess.TimeoutExpired:
            raise TestFailure("exporter did not exit within %ss after signal %d\n--- %s"
                              % (deadline, sig, self._context()))

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


# --- Postfix log lines -----------------------------------------------------------

# Second 0 of every generated log. BSD timestamps carry no year or zone: run
# the exporter with --postfix.syslog_year=2024 and TZ=UTC (run_once and
# Daemon set TZ).
LOG_EPOCH = datetime.datetime(2024, 5, 14, 10, 0, 0, tzinfo=datetime.timezone.utc)


@functools.lru_cache(maxsize=4096)
def _stamp(second, rfc3339):
    t = LOG_EPOCH + datetime.timedelta(seconds=second)
    if rfc3339:
        return t.strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")
    return "%s %2d %s" % (t.strftime("%b"), t.day, t.strftime("%H:%M:%S"))


def log_line(second, program, pid, message, host="mail", rfc3339=False):
    """One syslog line, newline included: `May 14 10:00:05 mail
    postfix/smtpd[123]: message`, `second` seconds after LOG_EPOCH. A bytes
    message (hostile input) gives a bytes line."""
    prefix = "%s %s %s[%d]: " % (_stamp(second, rfc3339), host, program, pid)
    if isinstance(message, bytes):
        return prefix.encode() + message + b"\n"
    return prefix + message + "\n"


def smtpd_program(service):
    """The syslog name of an smtpd service: postfix/smtpd for smtp,
    postfix/<service>/smtpd for the others (master.cf -o syslog_name)."""
    return "postfix/smtpd" if service == "smtp" else "postfix/%s/smtpd" % service


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

# Families whose every sample a MailLog expectation covers.
COUNTED = (LINES, CONNECTS, DISCONNECTS, SESSIONS, SUCCESSES, FAILURES, RELAY, REJECTED,
           PROCESSED, MALFORMED, UNRECOGNIZED, BACKEND)


class MailLog:
    """Writes real-format Postfix smtpd sessions and keeps the metrics they
    must produce (`expected`, {sample_key: value}). Every session gets its own
    smtpd pid and each line its own log second, so sessions never interfere.
    BSD timestamps by default; rfc3339=True for ISO ones."""

    def __init__(self, rfc3339=False, first_pid=3000, first_second=0, host="mail"):
        self.rfc3339 = rfc3339
        self.host = host
        self.pid = first_pid
        self.second = first_second
        self.expected = {}

    def _count(self, key, n=1):
        self.expected[key] = self.expected.get(key, 0) + n

    def _service_zero(self, service):
        # Every known label value exists at 0 once a service is seen.
        for name in (CONNECTS, DISCONNECTS, SESSIONS, SUCCESSES, RELAY):
            self.expected.setdefault(sample_key(name, {"service": service}), 0)

    def line(self, program, pid, message):
        """One line at the next log second, counted in log_lines_total."""
        text = log_line(self.second, program, pid, message, self.host, self.rfc3339)
        self.second += 1
        self._count(LINES)
        return text

    def _session(self, service, messages):
        self.pid += 1
        self._service_zero(service)
        self._count(sample_key(CONNECTS, {"service": service}))
        return "".join(self.line(smtpd_program(service), self.pid, m) for m in messages)

    def _closed(self, service):
        self._count(sample_key(DISCONNECTS, {"service": service}))

    def failed_login(self, service="submission"):
        """A client whose LOGIN fails with the stale challenge (bad_credentials)."""
        text = self._session(service, [
            "connect from unknown[192.0.2.1]",
            "warning: unknown[192.0.2.1]: SASL LOGIN authentication failed: UGFzc3dvcmQ6",
            "disconnect from unknown[192.0.2.1] ehlo=1 auth=0/1 quit=1 commands=2/3"])
        self._closed(service)
        self._count(sample_key(FAILURES, {"method": "LOGIN", "reason": "bad_credentials",
                                          "service": service}))
        return text

    def backend_down(self, service="submission"):
        """saslauthd is down: a companion line, then the failure (backend_unavailable)."""
        text = self._session(service, [
            "connect from mail-wr1-f45.google.com[209.85.221.45]",
            "warning: SASL authentication failure: cannot connect to saslauthd server: "
            "Resource temporarily unavailable",
            "warning: mail-wr1-f45.google.com[209.85.221.45]: SASL PLAIN authentication "
            "failed: generic failure",
            "disconnect from mail-wr1-f45.google.com[209.85.221.45] ehlo=2 starttls=1 auth=0/1 "
            "quit=1 commands=4/5"])
        self._closed(service)
        self._count(sample_key(FAILURES, {"method": "PLAIN", "reason": "backend_unavailable",
                                          "service": service}))
        self._count(sample_key(BACKEND, {"service": service}))
        return text

    def sent_mail(self, service="submission"):
        """An authenticated client that sends one message."""
        text = self._session(service, [
            "connect from client.example.net[198.51.100.7]",
            "4VfXyz1abcz9sT: client=client.example.net[198.51.100.7], sasl_method=PLAIN, "
            "sasl_username=alice@example.org",
            "disconnect from client.example.net[198.51.100.7] ehlo=2 starttls=1 auth=1 mail=1 "
            "rcpt=1 data=1 quit=1 commands=8"])
        self._closed(service)
        self._count(sample_key(SUCCESSES, {"service": service}))
        self._count(sample_key(PROCESSED, {"sasl_method": "PLAIN", "service": service}))
        return text

    def relay_denied(self, service="smtp"):
        """A spammer trying to relay: 554 Relay access denied."""
        text = self._session(service, [
            "connect from unknown[203.0.113.9]",
            "NOQUEUE: reject: RCPT from unknown[203.0.113.9]: 554 5.7.1 <info@example.com>: "
            "Relay access denied; from=<spam@example.biz> to=<info@example.com> proto=ESMTP "
            "helo=<spam.example.biz>",
            "disconnect from unknown[203.0.113.9] ehlo=1 mail=1 rcpt=0/1 quit=1 commands=3/4"])
        self._closed(service)
        self._count(sample_key(RELAY, {"service": service}))
        self._count(sample_key(REJECTED, {"code": "554", "service": service}))
        return text

    def open_session(self, service="submission"):
        """A connect whose disconnect has not come yet: one open session."""
        text = self._session(service, ["connect from unknown[198.51.100.99]"])
        self._count(sample_key(SESSIONS, {"service": service}))
        return text

    def mix(self, n=1):
        """`n` rounds of every session kind above except open_session."""
        return "".join(self.failed_login() + self.backend_down() + self.sent_mail()
                       + self.relay_denied() for _ in range(n))

    def lines(self):
        return int(self.expected.get(LINES, 0))

    def reset(self):
        """Fresh counters (a restarted exporter), same pids/clock onwards."""
        self.expected = {}
