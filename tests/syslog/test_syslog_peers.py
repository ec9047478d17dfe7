#!/usr/bin/env python3
"""Real syslog peers talking to the exporter's receiver.

usage: test_syslog_peers.py EXPORTER [unittest args, e.g. -k rsyslog]

  util-linux logger  RFC 3164 datagrams to the unix socket (--socket, the
                     form syslog(3) writes), RFC 5424 octet-counted over TCP
                     (--tcp --octet-count) and RFC 5424 over UDP (--udp)
  rsyslog            rsyslogd run unprivileged with a private config (-f, -i,
                     -n): it takes logger's messages on its own unix socket
                     and forwards them with omfwd over TCP, octet-counted and
                     newline-framed
Each sends whole Postfix smtpd sessions written by psetest.MailLog, one
logger call per line (tag and pid as Postfix logs them), and waits until the
daemon's metrics equal what the sessions must produce.
"""
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.dont_write_bytecode = True  # keep the source tree clean
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import harness  # noqa: E402  (puts tests/pylib on sys.path)
import psetest  # noqa: E402
from psetest import COUNTED, MailLog, check  # noqa: E402

BINARY = None
_LINE = re.compile(r"^\w{3} +\d+ \d\d:\d\d:\d\d \S+ (\S+)\[(\d+)\]: (.*)$")


def sessions():
    log = MailLog()
    text = (log.failed_login() + log.backend_down() + log.sent_mail("smtps")
            + log.relay_denied())
    lines = []
    for line in text.splitlines():
        m = _LINE.match(line)
        check(m is not None, "unexpected MailLog line %r" % line)
        lines.append(m.groups())  # (program, pid, message)
    return log.expected, lines


def logger_send(lines, *target):
    exe = psetest.require_tool("logger", "bsdutils (util-linux)")
    for program, pid, message in lines:
        subprocess.run([exe, *target, "-t", program, "--id=" + pid, "--", message],
                       check=True, timeout=30, stdin=subprocess.DEVNULL)


RSYSLOG_CONF = """
# Postfix tags are "postfix/smtpd": without this, rsyslog cuts the program
# name (RFC 5424 APP-NAME) at the slash and the service is lost.
global(workDirectory="{dir}" parser.permitSlashInProgramName="on")
module(load="imuxsock" SysSock.Use="off")
input(type="imuxsock" Socket="{dir}/rsyslog-in.sock" CreatePath="on")
if $programname startswith "postfix" then {{
  action(type="omfwd" target="127.0.0.1" port="{port}" protocol="tcp" {framing}
         template="{template}")
}}
"""


class PeersTest(harness.TempDirTest):

    def start(self, addresses):
        args = ["--syslog.listen-address=" + a for a in addresses]
        d = super().start(args)
        d.wait_ready()
        return d

    def check_sessions(self, d, expected):
        harness.wait_metrics(d, expected, COUNTED)

    def test_logger_rfc3164_datagrams_to_unix_socket(self):
        expected, lines = sessions()
        sock = self.path("log.sock")
        d = self.start(["unixgram://" + sock])
        logger_send(lines, "--socket=" + sock, "--socket-errors=on")
        self.check_sessions(d, expected)
        check(d.scrape().value(harness_received(), transport="unixgram") == len(lines),
              "received count")

    def test_logger_rfc3164_with_hostname_to_unix_socket(self):
        expected, lines = sessions()
        sock = self.path("log.sock")
        d = self.start(["unixgram://" + sock])
        logger_send(lines, "--socket=" + sock, "--socket-errors=on", "--rfc3164")
        self.check_sessions(d, expected)

    def test_logger_rfc5424_octet_counted_over_tcp(self):
        expected, lines = sessions()
        port = psetest.free_port()
        d = self.start(["tcp://127.0.0.1:%d" % port])
        logger_send(lines, "--tcp", "--octet-count", "--rfc5424", "-n", "127.0.0.1",
                    "-P", str(port))
        self.check_sessions(d, expected)
        check(d.scrape().value(harness_received(), transport="tcp") == len(lines),
              "received count")

    def test_logger_rfc5424_over_udp(self):
        expected, lines = sessions()
        port = psetest.free_port()
        d = self.start(["udp://127.0.0.1:%d" % port])
        logger_send(lines, "--udp", "--rfc5424", "-n", "127.0.0.1", "-P", str(port))
        self.check_sessions(d, expected)

    def rsyslog(self, port, framing, template):
        exe = psetest.require_tool("rsyslogd", "rsyslog", path="/usr/sbin:/sbin")
        conf = self.path("rsyslog.conf")
        with open(conf, "w") as f:
            f.write(RSYSLOG_CONF.format(dir=self.dir, port=port, framing=framing,
                                        template=template))
        pidfile = self.path("rsyslog.pid")
        with open(self.path("rsyslog.out"), "wb") as out:
            proc = subprocess.Popen([exe, "-f", conf, "-i", pidfile, "-n"], stdout=out,
                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

        def stop():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=psetest.DEADLINE_S)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        self.addCleanup(stop)

        def output():
            with open(self.path("rsyslog.out"), errors="replace") as f:
                return f.read()[-2000:]
        sock = self.path("rsyslog-in.sock")
        psetest.wait_for(lambda: proc.poll() is None and os.path.exists(sock),
                         "rsyslogd's input socket", context=output)
        return sock

    def test_rsyslog_forwards_octet_counted_rfc5424_over_tcp(self):
        expected, lines = sessions()
        port = psetest.free_port()
        d = self.start(["tcp://127.0.0.1:%d" % port])
        sock = self.rsyslog(port, 'TCP_Framing="octet-counted"', "RSYSLOG_SyslogProtocol23Format")
        logger_send(lines, "--socket=" + sock, "--socket-errors=on")
        self.check_sessions(d, expected)

    def test_rsyslog_forwards_newline_framed_over_tcp(self):
        expected, lines = sessions()
        port = psetest.free_port()
        d = self.start(["tcp://127.0.0.1:%d" % port])
        sock = self.rsyslog(port, "", "RSYSLOG_ForwardFormat")
        logger_send(lines, "--socket=" + sock, "--socket-errors=on")
        self.check_sessions(d, expected)


def harness_received():
    return "postfix_exporter_syslog_messages_received_total"


if __name__ == "__main__":
    harness.main(__doc__)
