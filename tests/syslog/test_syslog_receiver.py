#!/usr/bin/env python3
"""The real exporter as a syslog receiver: a fixture log sent over every
transport gives exactly the metrics the same log gives through the file.

usage: test_syslog_receiver.py EXPORTER [unittest args, e.g. -k Udp]

Each test starts the daemon with only --syslog.listen-address (no log file),
sends tests/fixtures/real/postfix-3.7-dovecot.log in the form that
transport's real senders use (syslog_util.py), waits until every message has
arrived, and requires the postfix_smtpd_* samples and
postfix_exporter_log_lines_total to equal those of `--once` on the file.
"""
import os
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import unittest

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import syslog_util  # noqa: E402  (puts tests/pylib on sys.path)
import psetest  # noqa: E402
from psetest import check  # noqa: E402

BINARY = None


class ReceiverTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.want = syslog_util.smtpd_part(syslog_util.once_samples(BINARY))
        check(cls.want.get('postfix_smtpd_connects_total{service="submission"}', 0) > 0,
              "the file gives no smtpd counts: %r" % cls.want)
        cls.lines = syslog_util.fixture_lines()

    def setUp(self):
        tmp = tempfile.TemporaryDirectory(prefix="pse-syslog-")
        self.addCleanup(tmp.cleanup)
        self.dir = tmp.name

    def start(self, addresses, *extra, **kwargs):
        args = ["--syslog.listen-address=" + a for a in addresses]
        args += ["--postfix.syslog_year=%d" % syslog_util.YEAR] + list(extra)
        d = psetest.Daemon(BINARY, args, self.dir, env={"TZ": "UTC"}, **kwargs)
        self.addCleanup(d.close)
        d.wait_ready()
        return d

    def test_unixgram_syslog3_same_numbers_as_file(self):
        sock = os.path.join(self.dir, "log.sock")
        d = self.start(["unixgram://" + sock])
        msgs = [syslog_util.convert(line, "syslog3") for line in self.lines]
        syslog_util.send_unixgram(sock, msgs)
        syslog_util.wait_same_numbers(d, self.want, "unixgram", len(msgs))

    def test_tcp_octet_counted_rfc5424_same_numbers_as_file(self):
        port = psetest.free_port()
        d = self.start(["tcp://127.0.0.1:%d" % port])
        msgs = [syslog_util.convert(line, "rfc5424") for line in self.lines]
        syslog_util.send_stream(("127.0.0.1", port), msgs, octet_counting=True)
        syslog_util.wait_same_numbers(d, self.want, "tcp", len(msgs))

    def test_tcp_newline_bsd_same_numbers_as_file(self):
        port = psetest.free_port()
        d = self.start(["tcp://127.0.0.1:%d" % port])
        msgs = [syslog_util.convert(line, "bsd") for line in self.lines]
        syslog_util.send_stream(("127.0.0.1", port), msgs, octet_counting=False)
        syslog_util.wait_same_numbers(d, self.want, "tcp", len(msgs))

    def test_udp_rfc5424_same_numbers_as_file(self):
        port = psetest.free_port()
        d = self.start(["udp://127.0.0.1:%d" % port])
        msgs = [syslog_util.convert(line, "rfc5424") for line in self.lines]
        syslog_util.send_udp(port, msgs)
        got = syslog_util.wait_same_numbers(d, self.want, "udp", len(msgs))
        check(got.total(syslog_util.DROPPED) == 0, "drops: %r" % got.family(syslog_util.DROPPED))

    def test_sessions_shared_across_listeners(self):
        # One Postfix may log through several paths: each half of the log over
        # another listener still pairs every connect with its disconnect.
        sock = os.path.join(self.dir, "log.sock")
        port = psetest.free_port()
        d = self.start(["unixgram://" + sock, "tcp://127.0.0.1:%d" % port])
        half = len(self.lines) // 2
        first = [syslog_util.convert(line, "syslog3") for line in self.lines[:half]]
        second = [syslog_util.convert(line, "rfc5424") for line in self.lines[half:]]
        syslog_util.send_unixgram(sock, first)
        d.wait_for(lambda: d.scrape().value(syslog_util.RECEIVED, transport="unixgram") == half,
                   "the first half over unixgram")
        syslog_util.send_stream(("127.0.0.1", port), second, octet_counting=True)
        syslog_util.wait_same_numbers(d, self.want, "tcp", len(second))

    def test_alongside_a_log_file(self):
        log = os.path.join(self.dir, "mail.log")
        half = len(self.lines) // 2
        with open(log, "w") as f:
            f.write("".join(line + "\n" for line in self.lines[:half]))
        sock = os.path.join(self.dir, "log.sock")
        d = self.start(["unixgram://" + sock], "--postfix.logfile_path=" + log,
                       "--postfix.logfile_from_beginning")
        d.wait_for(lambda: d.scrape().value(syslog_util.LINES) == half, "the file half read")
        rest = [syslog_util.convert(line, "syslog3") for line in self.lines[half:]]
        syslog_util.send_unixgram(sock, rest)
        syslog_util.wait_same_numbers(d, self.want, "unixgram", len(rest))

    def test_socket_mode_and_removed_at_exit(self):
        sock = os.path.join(self.dir, "log.sock")
        d = self.start(["unixgram://" + sock], "--syslog.socket-mode=0620")
        st = os.lstat(sock)
        check(stat.S_ISSOCK(st.st_mode), "not a socket")
        check(stat.S_IMODE(st.st_mode) == 0o620, "mode %o" % stat.S_IMODE(st.st_mode))
        status = d.stop(signal.SIGTERM)
        check(status == 0, "exit status %s" % status)
        check(not os.path.lexists(sock), "socket file left behind")

    def test_stale_socket_replaced(self):
        sock = os.path.join(self.dir, "log.sock")
        d = self.start(["unixgram://" + sock])
        d.stop(signal.SIGKILL)  # a crash leaves the socket file behind
        check(os.path.lexists(sock), "SIGKILL removed the socket?")
        d2 = self.start(["unixgram://" + sock], name="second")
        syslog_util.send_unixgram(sock, [syslog_util.convert(self.lines[2], "syslog3")])
        d2.wait_for(lambda: d2.scrape().value(syslog_util.RECEIVED, transport="unixgram") == 1,
                    "a message over the replaced socket")

    def test_echo_writes_received_lines_to_stdout(self):
        sock = os.path.join(self.dir, "log.sock")
        out_path = os.path.join(self.dir, "stdout")
        msgs = [syslog_util.convert(line, "syslog3") for line in self.lines[:20]]
        port = psetest.free_port()
        with open(out_path, "wb") as out:
            proc = subprocess.Popen(
                [BINARY, "--syslog.listen-address=unixgram://" + sock, "--syslog.echo",
                 "--web.listen-address=127.0.0.1:%d" % port],
                stdout=out, stderr=subprocess.DEVNULL)
            self.addCleanup(proc.kill)
            psetest.wait_for(lambda: os.path.exists(sock), "the socket")
            syslog_util.send_unixgram(sock, msgs)
            want = "".join(m + "\n" for m in msgs)

            def echoed():
                with open(out_path) as f:
                    return f.read()
            psetest.wait_for(lambda: echoed() == want, "the echoed lines",
                             context=lambda: echoed()[-2000:])
            proc.terminate()
            proc.wait(timeout=psetest.DEADLINE_S)

    def test_once_with_listener_refused(self):
        res = psetest.run_once(BINARY, ["--syslog.listen-address=udp://127.0.0.1:0",
                                        "--postfix.logfile_path=" + syslog_util.FIXTURE],
                               expect_status=2)
        check("--once" in res.stderr, res.stderr)

    def test_bad_socket_mode_is_a_config_error(self):
        res = psetest.run_once(BINARY, ["--syslog.listen-address=unixgram://%s/s" % self.dir,
                                        "--syslog.socket-mode=0999"], expect_status=2)
        check("octal" in res.stderr, res.stderr)

    def test_bad_address_is_a_config_error(self):
        res = psetest.run_once(BINARY, ["--syslog.listen-address=http://x:1"], expect_status=2)
        check("unknown scheme" in res.stderr, res.stderr)


if __name__ == "__main__":
    if len(sys.argv) < 2 or not os.access(sys.argv[1], os.X_OK):
        sys.exit(__doc__)
    BINARY = os.path.abspath(sys.argv[1])
    unittest.main(argv=[sys.argv[0]] + sys.argv[2:], verbosity=2)
