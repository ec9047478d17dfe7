#!/usr/bin/env python3
"""--syslog.host-label with the real binary: one exporter receiving several
Postfix hosts over its listeners.

usage: test_syslog_hosts.py EXPORTER [unittest args, e.g. -k cap]

The fixture log is sent once per host, in RFC 5424 naming that host (the
same pids on every host). With --syslog.host-label each host's
postfix_smtpd_* series must equal those of `--once` on the file with a
`host` label added; past --syslog.max-hosts hosts are counted as
host="other".
"""
import os
import sys
import tempfile
import unittest

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import syslog_util  # noqa: E402  (puts tests/pylib on sys.path)
import psetest  # noqa: E402
from psetest import check  # noqa: E402

BINARY = None


def compared(key):
    """The per-service smtpd series. Log time is shared by all hosts, so a
    peak (a maximum over trailing log time) of a host sent after another
    differs from the file's (sessions shows the same thing exactly); the
    triage families have no `service` label, so no `host` either."""
    return (key.startswith("postfix_smtpd_") and 'service="' in key
            and "sessions_max" not in key)


def as_host(line, host):
    """`line` in RFC 5424 naming `host`."""
    parts = syslog_util.convert(line, "rfc5424").split(" ", 3)
    parts[2] = host
    return " ".join(parts)


def with_host(want, host):
    """`want` ({key: value}) with host=`host` added to every key."""
    out = {}
    for key, value in want.items():
        name, _, rest = key.partition("{")
        labels = dict(psetest._parse_labels(rest[:-1], key)) if rest else {}
        labels["host"] = host
        out[psetest.sample_key(name, labels)] = value
    return out


class HostLabelTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        once = syslog_util.once_samples(BINARY)
        cls.want = {k: v for k, v in once.items() if compared(k)}
        check(cls.want.get('postfix_smtpd_connects_total{service="submission"}', 0) > 0,
              "the file gives no smtpd counts: %r" % cls.want)
        cls.lines = syslog_util.fixture_lines()

    def setUp(self):
        tmp = tempfile.TemporaryDirectory(prefix="pse-syslog-hosts-")
        self.addCleanup(tmp.cleanup)
        self.dir = tmp.name

    def start(self, addresses, *extra):
        args = ["--syslog.listen-address=" + a for a in addresses]
        args += ["--postfix.syslog_year=%d" % syslog_util.YEAR, "--syslog.host-label"]
        d = psetest.Daemon(BINARY, args + list(extra), self.dir, env={"TZ": "UTC"})
        self.addCleanup(d.close)
        d.wait_ready()
        return d

    def wait_equal(self, d, want, received, transport):
        d.wait_for(lambda: d.scrape().value(syslog_util.RECEIVED, transport=transport) == received,
                   "%d messages over %s" % (received, transport))
        last = {}

        def same():
            last["got"] = d.scrape()
            return all(last["got"].get(k) == v for k, v in want.items())
        try:
            d.wait_for(same, "each host's numbers")
        except psetest.TestFailure:
            got = last.get("got", {})
            psetest.check_samples(got, want, "per-host samples")
        return last["got"]

    def test_two_hosts_over_two_listeners_each_get_the_files_numbers(self):
        port = psetest.free_port()
        tcp = psetest.free_port()
        d = self.start(["udp://127.0.0.1:%d" % port, "tcp://127.0.0.1:%d" % tcp])
        # The same pids on both hosts, interleaved: sessions must not mix.
        syslog_util.send_udp(port, [as_host(line, "mxa.example.net") for line in self.lines])
        syslog_util.send_stream(("127.0.0.1", tcp), [as_host(line, "MXB") for line in self.lines],
                                octet_counting=True)
        want = with_host(self.want, "mxa.example.net")
        want.update(with_host(self.want, "mxb"))
        d.wait_for(lambda: d.scrape().value(syslog_util.RECEIVED, transport="udp") == len(
            self.lines), "every datagram")
        got = self.wait_equal(d, want, len(self.lines), "tcp")
        # No series of a family with a `service` label lacks the host.
        for key in got:
            if 'service="' in key and not key.startswith("postfix_exporter_syslog"):
                check('host="' in key, "series without host: %s" % key)
        hosts = {got.labels(k)["host"] for k in got.family("postfix_smtpd_connects_total")}
        check(hosts == {"mxa.example.net", "mxb"}, "host values: %r" % hosts)

    def test_hosts_past_max_hosts_are_other(self):
        sock = os.path.join(self.dir, "log.sock")
        d = self.start(["unixgram://" + sock], "--syslog.max-hosts=2")
        msgs = []
        for host in ("mxa", "mxb", "mxc"):
            msgs += [as_host(line, host) for line in self.lines]
        syslog_util.send_unixgram(sock, msgs)
        want = with_host(self.want, "mxa")
        want.update(with_host(self.want, "mxb"))
        want.update(with_host(self.want, "other"))
        got = self.wait_equal(d, want, len(msgs), "unixgram")
        hosts = {got.labels(k)["host"] for k in got.family("postfix_smtpd_connects_total")}
        check(hosts == {"mxa", "mxb", "other"}, "host values: %r" % hosts)

    def test_off_by_default_no_host_label(self):
        sock = os.path.join(self.dir, "log.sock")
        d = psetest.Daemon(BINARY, ["--syslog.listen-address=unixgram://" + sock,
                                    "--postfix.syslog_year=%d" % syslog_util.YEAR],
                           self.dir, env={"TZ": "UTC"})
        self.addCleanup(d.close)
        d.wait_ready()
        syslog_util.send_unixgram(sock, [as_host(line, "mxa") for line in self.lines])
        got = self.wait_equal(d, self.want, len(self.lines), "unixgram")
        check(not [k for k in got if 'host="' in k], "a host label without --syslog.host-label")

    def test_max_hosts_out_of_range_is_a_config_error(self):
        res = psetest.run_once(BINARY, ["--syslog.max-hosts=0", "--syslog.host-label",
                                        "--postfix.logfile_path=" + syslog_util.FIXTURE],
                               expect_status=2)
        check("syslog.max-hosts" in res.stderr, res.stderr)


if __name__ == "__main__":
    if len(sys.argv) < 2 or not os.access(sys.argv[1], os.X_OK):
        sys.exit(__doc__)
    BINARY = os.path.abspath(sys.argv[1])
    unittest.main(argv=[sys.argv[0]] + sys.argv[2:], verbosity=2)
