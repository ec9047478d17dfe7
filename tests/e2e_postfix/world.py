"""The world the end-to-end test runs in: a temporary directory holding a
TLS certificate, the Postfix instance, the Dovecot instance, the SMTP sink
Postfix relays to and the exporter under test, with their start-up order
and one shutdown() that stops every process it started (by pid) and removes
the directory unless kept.

Two ways for the log to reach the exporter: a file (Postfix's postlogd
`maillog_file`, which the exporter follows), or, with syslog=True, Postfix's
syslog(3) datagrams to the exporter's unixgram socket (--syslog.listen-address;
the exporter must then start first). read_log() is the log as written: the
file, or what the exporter echoes of every message it received
(--syslog.echo), so the scenario can wait on it either way.
"""
import os
import re
import shutil
import tempfile

from e2e_common import log, wait_for
from dovecot_instance import DovecotInstance
from postfix_instance import SERVICES, PostfixInstance, open_smtpd_sessions
from smtp_sink import SmtpSink
import psetest
import pseproc


class World:
    def __init__(self, keep, syslog=False):
        self.keep = keep
        self.syslog = syslog
        self.root = tempfile.mkdtemp(prefix="pse-e2e-")
        # postfix and dovecot users must traverse it (queue, certificate, socket).
        os.chmod(self.root, 0o755)
        self.cert = os.path.join(self.root, "tls", "cert.pem")
        self.key = os.path.join(self.root, "tls", "key.pem")
        self.ports = {}
        self.syslog_socket = os.path.join(self.root, "syslog", "log") if syslog else None
        self.echo = os.path.join(self.root, "exporter.stdout")
        self.postfix = PostfixInstance(self.root, self.cert, self.key, self.ports,
                                       syslog_socket=self.syslog_socket)
        self.dovecot = DovecotInstance(
            self.root, os.path.join(self.postfix.queue, "private", "auth"),
            maillog=self.postfix.maillog, syslog_socket=self.syslog_socket)
        self.exporter = None
        self.sink = SmtpSink()

    def configure(self):
        os.makedirs(os.path.dirname(self.cert), exist_ok=True)
        self._make_cert()
        # The sink first: its port (0 at bind) must not be one picked below.
        self.postfix.sink_port = self.sink.start().port
        used = {self.postfix.sink_port}
        for svc in SERVICES:
            p = psetest.free_port()
            while p in used:
                p = psetest.free_port()
            used.add(p)
            self.ports[svc] = p
        self.postfix.configure()
        self.dovecot.configure()

    def _make_cert(self):
        pseproc.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                     "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                     "-subj", "/CN=localhost",
                     "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                     "-keyout", self.key, "-out", self.cert])
        os.chmod(self.key, 0o600)

    # -- processes ---------------------------------------------------------

    def start_postfix(self):
        self.postfix.start(self.read_log)

    def start_dovecot(self):
        self.dovecot.start()

    def stop_dovecot(self):
        self.dovecot.stop()

    def start_exporter(self, binary):
        # The peaks must still be in the window when we scrape, however slow
        # this machine is today.
        args = ["--sessions.peak_window=1h"]
        if self.syslog:
            os.makedirs(os.path.dirname(self.syslog_socket), exist_ok=True)
            os.chmod(os.path.dirname(self.syslog_socket), 0o755)
            args += ["--syslog.listen-address=unixgram://" + self.syslog_socket,
                     "--syslog.echo"]
        else:
            args += ["--postfix.logfile_path=" + self.postfix.maillog,
                     "--postfix.logfile_from_beginning"]
        log("starting %s %s" % (binary, " ".join(args)))
        with open(self.echo, "wb") as out:
            self.exporter = psetest.Daemon(binary, args, self.root, stdout=out)
        self.exporter.wait_for(self.exporter.scrape, "exporter /metrics")
        if self.syslog:
            self.exporter.wait_for(lambda: os.path.exists(self.syslog_socket),
                                   "the exporter's syslog socket")

    def scrape(self):
        return self.exporter.scrape()

    def exporter_stderr(self):
        return self.exporter.stderr()[-4000:] if self.exporter else ""

    def stop_exporter(self):
        if self.exporter:
            if self.exporter.alive():
                try:
                    self.exporter.stop(deadline=5)
                except psetest.TestFailure:
                    pass  # close() kills it
            self.exporter.close()
            self.exporter = None

    def shutdown(self):
        for step in (self.stop_exporter, self.postfix.stop, self.dovecot.stop, self.sink.stop):
            try:
                step()
            except Exception as e:  # keep cleaning up whatever happens
                log("cleanup step %s: %s" % (step.__name__, e))
        if self.root and os.path.isdir(self.root):
            if self.keep:
                log("kept " + self.root)
            else:
                shutil.rmtree(self.root, ignore_errors=True)
        self.root = None

    # -- the log -------------------------------------------------------------

    def log_path(self):
        return self.echo if self.syslog else self.postfix.maillog

    def read_log(self):
        try:
            with open(self.log_path(), errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def wait_quiescent(self):
        """Until every smtpd session in the log has ended (its last lines are written)."""
        wait_for(lambda: not open_smtpd_sessions(self.read_log()),
                 "all smtpd sessions to end in the log")

    def wait_mail_settled(self, truth):
        """Until the log shows as many deliveries, removals and notices as
        the client's record expects (more would show in the comparison)."""
        def count(pattern):
            return len(re.findall(pattern, self.read_log(), re.M))
        wait_for(lambda: count(r": to=<.*, status=") >= truth.delivery_lines(),
                 "%d delivery status lines" % truth.delivery_lines())
        wait_for(lambda: count(r"qmgr\[\d+\]: \w+: removed$") >= truth.qmgr_removed,
                 "%d messages removed by qmgr" % truth.qmgr_removed)
        n = sum(truth.bounce_notices.values())
        wait_for(lambda: count(r"bounce\[\d+\]: .* notification: ") >= n,
                 "%d bounce notifications" % n)

    def smtpd_processes(self, service):
        return self.postfix.smtpd_processes(service)
