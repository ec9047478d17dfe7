#!/usr/bin/env python3
"""Bad input to the real exporter's syslog listeners: each case is counted
or refused, the exporter's memory stays bounded (VmRSS from /proc, checked
against a generous bound), and scrapes and other clients keep being served.

usage: test_syslog_bad_input.py EXPORTER [unittest args, e.g. -k flood]

Cases: garbage and oversized datagrams; a TCP peer announcing an octet count
of 10 GB; a half-sent frame; 10,000 TCP connections at once (past
--syslog.max-connections they are closed at once, while datagram clients
and /metrics are served); a stream client that sends and then neither reads
nor closes (the idle timeout closes it); and --syslog.echo into a stdout
pipe nobody reads (the ingest and scrapes go on, the echo's lines are
dropped and counted, memory stays bounded). A syslog client is never
written to, so "a client that never reads" can only hurt through the echo.
"""
import os
import random
import resource
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import syslog_util  # noqa: E402  (puts tests/pylib on sys.path)
import psetest  # noqa: E402
from psetest import check  # noqa: E402

BINARY = None
RSS_LIMIT_KIB = 200 * 1024  # generous: the exporter idles at a few tens of MiB
CLOSED = "postfix_exporter_syslog_connections_closed_by_exporter_total"
OPEN = "postfix_exporter_syslog_connections_open"
GOOD = "<22>Nov 21 06:18:02 postfix/smtpd[11780]: connect from a[192.0.2.1]"


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise psetest.TestFailure("no VmRSS for pid %d" % pid)


class BadInputTest(unittest.TestCase):

    def setUp(self):
        tmp = tempfile.TemporaryDirectory(prefix="pse-syslog-bad-")
        self.addCleanup(tmp.cleanup)
        self.dir = tmp.name
        self.udp = psetest.free_port()
        self.tcp = psetest.free_port()

    def start(self, *extra, **kwargs):
        args = ["--syslog.listen-address=udp://127.0.0.1:%d" % self.udp,
                "--syslog.listen-address=tcp://127.0.0.1:%d" % self.tcp,
                "--postfix.syslog_year=2024"] + list(extra)
        d = psetest.Daemon(BINARY, args, self.dir, env={"TZ": "UTC"}, **kwargs)
        self.addCleanup(d.close)
        d.wait_ready()
        return d

    def check_bounded_and_serving(self, d):
        """Memory under the bound, a scrape answers, and a good datagram
        from another client is still counted."""
        rss = rss_kib(d.pid)
        check(rss < RSS_LIMIT_KIB, "VmRSS %d KiB over %d KiB" % (rss, RSS_LIMIT_KIB))
        before = d.scrape().value("postfix_smtpd_connects_total", service="smtp") or 0
        syslog_util.send_udp(self.udp, [GOOD])
        d.wait_for(lambda: d.scrape().value("postfix_smtpd_connects_total",
                                            service="smtp") == before + 1,
                   "a good datagram from another client counted")

    def test_garbage_and_oversized_datagrams_are_counted(self):
        # Over unixgram: the kernel makes the sender wait instead of losing
        # datagrams, so every one is accounted for.
        sock = os.path.join(self.dir, "log.sock")
        d = self.start("--syslog.max-message-size=1024",
                       "--syslog.listen-address=unixgram://" + sock)
        rnd = random.Random(7)
        garbage = [bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 900)))
                   for _ in range(2000)]
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
            s.connect(sock)
            for i, g in enumerate(garbage):
                s.send(g)
                if i % 40 == 0:
                    s.send(b"<13>" + b"y" * 5000)
        d.wait_for(lambda: d.scrape().value(syslog_util.DROPPED, reason="too_long") == 50,
                   "50 oversized datagrams counted too_long")
        d.wait_for(lambda: d.scrape().value(syslog_util.RECEIVED, transport="unixgram") >= 1990,
                   "the garbage delivered as lines")
        s = d.scrape()
        # Each garbage datagram is one line for the parser (a datagram that
        # is empty once trailing newlines and NULs are trimmed is none).
        check(s.value(syslog_util.RECEIVED, transport="unixgram") <= 2000, "more lines than sent")
        check(s.value("postfix_exporter_log_lines_malformed_total") > 1000,
              "garbage not counted malformed: %r" % s.value("postfix_exporter_log_lines_malformed_total"))
        self.check_bounded_and_serving(d)

    def test_octet_count_of_10gb_closes_the_connection(self):
        d = self.start()
        with socket.create_connection(("127.0.0.1", self.tcp)) as c:
            c.sendall(b"10737418240 <13>Nov 21 06:18:02 x: y" + b"z" * 65536)
            c.settimeout(psetest.DEADLINE_S)
            try:
                got = c.recv(1)
            except ConnectionResetError:
                got = b""
            check(got == b"", "the exporter did not close the connection: %r" % got)
        s = d.scrape()
        check(s.value(CLOSED, reason="framing") == 1, "framing closes: %r" % s.family(CLOSED))
        check(s.value(syslog_util.DROPPED, reason="too_long") == 1, "not counted too_long")
        check(s.value(OPEN) == 0, "connection still counted open")
        self.check_bounded_and_serving(d)

    def test_half_sent_frame_is_counted_truncated(self):
        d = self.start()
        with socket.create_connection(("127.0.0.1", self.tcp)) as c:
            c.sendall(b"%d %s" % (len(GOOD), GOOD.encode()) + b"300 <13>only part of it")
        d.wait_for(lambda: d.scrape().value(syslog_util.DROPPED, reason="truncated") == 1,
                   "the half-sent frame counted truncated")
        s = d.scrape()
        check(s.value(syslog_util.RECEIVED, transport="tcp") == 1, "the whole frame before it")
        self.check_bounded_and_serving(d)

    def test_ten_thousand_connections_at_once(self):
        n = 10000
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        want = n + 1000
        check(hard >= want, "RLIMIT_NOFILE hard limit %d < %d: run as root or raise it" % (hard, want))
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
        self.addCleanup(resource.setrlimit, resource.RLIMIT_NOFILE, (soft, hard))
        d = self.start("--syslog.max-connections=256")
        socks = []
        self.addCleanup(lambda: [s.close() for s in socks])
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            s.connect_ex(("127.0.0.1", self.tcp))
            socks.append(s)
        # While they arrive, scrapes and datagram clients are served.
        self.check_bounded_and_serving(d)

        def all_handled():
            s = d.scrape()
            return s.value(CLOSED, reason="limit") + s.value(OPEN) >= n
        d.wait_for(all_handled, "all %d connections accepted or refused" % n, deadline=120)
        s = d.scrape()
        check(s.value(OPEN) == 256, "open connections %r, limit 256" % s.value(OPEN))
        check(s.value(CLOSED, reason="limit") == n - 256, "refused %r" % s.family(CLOSED))
        self.check_bounded_and_serving(d)
        # Once the flood is gone, a stream client is served again.
        for s in socks:
            s.close()
        socks.clear()
        d.wait_for(lambda: d.scrape().value(OPEN) == 0, "the flood's connections closed")
        syslog_util.send_stream(("127.0.0.1", self.tcp), [GOOD], octet_counting=True)
        d.wait_for(lambda: d.scrape().value(syslog_util.RECEIVED, transport="tcp") == 1,
                   "a stream client after the flood")

    def test_client_that_sends_and_never_reads_nor_closes_times_out(self):
        d = self.start("--syslog.idle-timeout=2s")
        c = socket.create_connection(("127.0.0.1", self.tcp))
        self.addCleanup(c.close)
        c.sendall((GOOD + "\n").encode() * 100 + b"<13>and half a line")
        d.wait_for(lambda: d.scrape().value(syslog_util.RECEIVED, transport="tcp") == 100,
                   "100 messages of the silent client")
        self.check_bounded_and_serving(d)
        d.wait_for(lambda: d.scrape().value(CLOSED, reason="idle") == 1, "the idle close")
        check(d.scrape().value(syslog_util.RECEIVED, transport="tcp") == 101,
              "the unterminated line is delivered at the close")

    def test_echo_to_a_stdout_nobody_reads(self):
        sock = os.path.join(self.dir, "log.sock")
        port = psetest.free_port()
        proc = subprocess.Popen(
            [BINARY, "--syslog.listen-address=unixgram://" + sock, "--syslog.echo",
             "--postfix.syslog_year=2024", "--web.listen-address=127.0.0.1:%d" % port],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=dict(os.environ, TZ="UTC"))
        self.addCleanup(lambda: (proc.kill(), proc.wait(), proc.stdout.close()))
        base = "http://127.0.0.1:%d" % port

        def scrape():
            status, _, body = psetest.http_get(base + "/metrics")
            check(status == 200, "scrape: %d" % status)
            return psetest.parse_exposition(body.decode())
        psetest.wait_for(lambda: os.path.exists(sock) and psetest.http_get(base + "/-/ready")[0]
                         == 200, "the exporter ready")
        n = 20000  # ~20 MB: far past the pipe (64 KiB) and the echo buffer (1 MiB)
        line = GOOD + " " + "p" * 1000
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
            s.connect(sock)
            s.settimeout(psetest.DEADLINE_S)  # a blocked ingest would stop the sender
            for _ in range(n):
                s.send(line.encode())
        psetest.wait_for(lambda: scrape().value(syslog_util.RECEIVED, transport="unixgram") == n,
                         "every message received although stdout is full")
        s = scrape()
        check(s.value("postfix_exporter_syslog_echo_lines_dropped_total") > 0,
              "echo drops not counted")
        check(s.value("postfix_smtpd_connects_total", service="smtp") == n, "not all counted")
        rss = rss_kib(proc.pid)
        check(rss < RSS_LIMIT_KIB, "VmRSS %d KiB over %d KiB" % (rss, RSS_LIMIT_KIB))
        # Reading stdout now gives whole lines; the last may be cut where
        # the pipe was full (its rest waits in the exporter), never changed.
        os.set_blocking(proc.stdout.fileno(), False)
        data = proc.stdout.read() or b""
        *whole, tail = data.split(b"\n")
        check(whole and all(w == line.encode() for w in whole), "an echo line changed")
        check(line.encode().startswith(tail), "a torn echo line: %r" % tail[-100:])

if __name__ == "__main__":
    if len(sys.argv) < 2 or not os.access(sys.argv[1], os.X_OK):
        sys.exit(__doc__)
    BINARY = os.path.abspath(sys.argv[1])
    unittest.main(argv=[sys.argv[0]] + sys.argv[2:], verbosity=2)
