"""What the syslog receiver tests share: turning a fixture log into the
messages real senders put on the wire, sending them, and comparing a
daemon's metrics with what `--once` on the same file gives.

Forms (one per sender):
  syslog3 : "<22>Nov 21 06:18:02 postfix/smtpd[11780]: msg"  glibc syslog(3)
            to /dev/log: RFC 3164 with PRI, no hostname
  bsd     : the file's own line (RFC 3164 without PRI, with hostname)
  rfc5424 : "<22>1 2024-11-21T06:18:02Z localhost postfix/smtpd 11780 - - msg"
"""
import os
import re
import socket
import sys

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
import psetest  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
FIXTURE = os.path.join(ROOT, "tests", "fixtures", "real", "postfix-3.7-dovecot.log")
YEAR = 2024
RECEIVED = "postfix_exporter_syslog_messages_received_total"
DROPPED = "postfix_exporter_syslog_messages_dropped_total"
LINES = "postfix_exporter_log_lines_total"
MONTHS = {m: i + 1 for i, m in enumerate(
    "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split())}
_BSD = re.compile(r"^(\w{3}) +(\d+) (\d\d:\d\d:\d\d) (\S+) ([^\[: ]+)(?:\[(\d+)\])?: (.*)$")


def fixture_lines(path=FIXTURE):
    with open(path) as f:
        return [line.rstrip("\n") for line in f if line.strip()]


def convert(line, form):
    """`line` (a BSD file line) as `form` puts it on the wire."""
    m = _BSD.match(line)
    psetest.check(m is not None, "fixture line not in BSD form: %r" % line)
    mon, day, clock, host, tag, pid, msg = m.groups()
    if form == "bsd":
        return line
    if form == "syslog3":
        return "<22>%s %2d %s %s%s: %s" % (mon, int(day), clock, tag,
                                         "[%s]" % pid if pid else "", msg)
    if form == "rfc5424":
        stamp = "%04d-%02d-%02dT%sZ" % (YEAR, MONTHS[mon], int(day), clock)
        return "<22>1 %s %s %s %s - - %s" % (stamp, host, tag, pid or "-", msg)
    raise ValueError(form)


def send_unixgram(path, messages):
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
        s.connect(path)
        for m in messages:
            s.send(m.encode())


def send_udp(port, messages):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect(("127.0.0.1", port))
        for m in messages:
            s.send(m.encode())


def send_stream(address, messages, octet_counting, family=socket.AF_INET):
    payload = b""
    for m in messages:
        b = m.encode()
        payload += (b"%d " % len(b) + b) if octet_counting else b + b"\n"
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.connect(address)
        s.sendall(payload)


def once_samples(binary, path=FIXTURE):
    return psetest.run_once(binary, ["--postfix.logfile_path=" + path,
                                     "--postfix.syslog_year=%d" % YEAR]).samples


def smtpd_part(samples):
    """The postfix_smtpd_* samples and the line count: what must be equal."""
    return {k: v for k, v in samples.items()
            if k.startswith("postfix_smtpd_") or k.startswith(LINES)}


def wait_same_numbers(daemon, want, transport, count):
    """Waits until `count` messages arrived over `transport`, then until the
    smtpd samples equal `want` exactly; returns the last scrape."""
    daemon.wait_for(lambda: daemon.scrape().value(RECEIVED, transport=transport) == count,
                    "%d messages received over %s" % (count, transport))
    last = {}

    def same():
        last["got"] = daemon.scrape()
        return smtpd_part(last["got"]) == want
    try:
        daemon.wait_for(same, "the same smtpd metrics as --once on the file")
    except psetest.TestFailure:
        got = smtpd_part(last.get("got", {}))
        diff = sorted((k, want.get(k), got.get(k)) for k in set(want) | set(got)
                      if want.get(k) != got.get(k))
        raise psetest.TestFailure("over %s (key, file, received):\n  %s"
                                  % (transport, "\n  ".join(map(repr, diff))))
    return last["got"]
