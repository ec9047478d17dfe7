"""The private Postfix instance of the end-to-end test: its configuration
(main.cf, master.cf, the access map and header_checks), starting and
stopping it, and what its log says about smtpd sessions.

Services: smtp (no SASL), submission (STARTTLS + Dovecot SASL), smtps (TLS
wrapper + SASL) and screened (postscreen, then an smtpd). Mail for
LOCAL_DOMAIN goes to virtual(8), mail for RELAY_DOMAIN to the loopback sink
(sink_port) through the smtp client; everything else to error(8).

Everything lives under the test's temporary directory; Postfix listens only
on 127.0.0.1 high ports and delivers nothing off the host. Processes are
found by pid (master.pid) and by the MAIL_CONFIG every daemon of this
instance inherits, never by name.
"""
import os
import re
import shutil
import time

from e2e_common import LOCAL_DOMAIN, log, wait_for
import devlog_namespace
import pseproc

# The listening services; "screened" is postscreen in front of an smtpd.
SERVICES = ("smtp", "submission", "smtps", "screened")
RELAY_DOMAIN = "sink.test"  # relayed to the SmtpSink on loopback
BLOCKED_RCPT = "blocked@" + LOCAL_DOMAIN  # refused at RCPT by an access map
REJECTED_SUBJECT = "e2e reject me"  # refused in cleanup by header_checks


def main_cf(p):
    """main.cf text for the instance whose paths/ports are on `p`."""
    return f"""\
# Private e2e instance: nothing listens beyond 127.0.0.1, nothing leaves the host.
compatibility_level = 3.6
queue_directory = {p.queue}
data_directory = {p.data}
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = localhost
mydomain = {LOCAL_DOMAIN}
myorigin = $mydomain
mydestination =
mynetworks = 127.0.0.1/32
relayhost =
relay_domains =
alias_maps =
alias_database =
# Everything that is neither the local test domain nor the sink's fails at
# once, inside Postfix.
default_transport = error:e2e test instance delivers nothing outside {LOCAL_DOMAIN}
relay_transport = $default_transport
local_transport = $default_transport
# {LOCAL_DOMAIN}: real virtual(8) delivery into one maildir under the test dir.
virtual_mailbox_domains = {LOCAL_DOMAIN}
virtual_mailbox_base = {p.vmail}
virtual_mailbox_maps = static:mailbox/
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
virtual_transport = virtual
# {RELAY_DOMAIN}: the smtp client relays it to the loopback sink, whose
# replies decide sent / deferred / bounced. No retry within the test.
transport_maps = inline:{{ {RELAY_DOMAIN}=smtp:[127.0.0.1]:{p.sink_port} }}
minimal_backoff_time = 1h
maximal_backoff_time = 2h
queue_run_delay = 1h
delay_warning_time = 0
# Relay only for SASL clients; permit_mynetworks is deliberately absent, so the
# test client on 127.0.0.1 is an outsider and gets 554 5.7.1 Relay access denied.
smtpd_relay_restrictions = permit_sasl_authenticated, reject_unauth_destination
smtpd_recipient_restrictions = check_recipient_access texthash:{p.etc}/recipient_access
header_checks = regexp:{p.etc}/header_checks
# postscreen ("screened"): the pregreet test only, with a short wait; a
# client that talks first is dropped. 127.0.0.1 is not allowlisted (the
# default postscreen_access_list is permit_mynetworks).
postscreen_access_list =
postscreen_greet_wait = 2s
postscreen_greet_action = drop
postscreen_cache_map = btree:$data_directory/postscreen_cache
# anvil: count local clients too (the default exception is $mynetworks), and
# report often so its statistics lines show up during the test.
smtpd_client_event_limit_exceptions =
smtpd_client_connection_count_limit = 50
smtpd_client_connection_rate_limit = 1000
smtpd_client_auth_rate_limit = 1000
anvil_status_update_time = 5s
smtpd_error_sleep_time = 0
smtpd_soft_error_limit = 50
smtpd_hard_error_limit = 100
smtpd_banner = $myhostname ESMTP e2e
smtpd_tls_cert_file = {p.cert}
smtpd_tls_key_file = {p.key}
smtpd_tls_security_level = may
smtpd_tls_loglevel = 1
smtpd_sasl_auth_enable = no
smtpd_sasl_type = dovecot
smtpd_sasl_path = private/auth
# smtpd dies (fatal) when Dovecot is down, and master then pauses the service
# ("bad command startup -- throttling") for 60 s by default; connections wait
# in the listen queue meanwhile. Keep the pause short.
service_throttle_time = 1s
{p.logging_conf()}
biff = no
"""


def master_cf(ports):
    # chroot column "n" everywhere: smtpd reaches private/auth and the
    # certificate by their real paths.
    # max_idle=2s on the SASL services: smtpd processes are still reused
    # between quick sessions, yet idle ones go away quickly, so the test can
    # make sure that only fresh processes meet the stopped Dovecot.
    return f"""\
127.0.0.1:{ports['smtp']} inet n - n - - smtpd
127.0.0.1:{ports['submission']} inet n - n - - smtpd
  -o syslog_name=postfix/submission
  -o smtpd_tls_security_level=encrypt
  -o smtpd_tls_auth_only=yes
  -o smtpd_sasl_auth_enable=yes
  -o max_idle=2s
127.0.0.1:{ports['smtps']} inet n - n - - smtpd
  -o syslog_name=postfix/smtps
  -o smtpd_tls_wrappermode=yes
  -o smtpd_sasl_auth_enable=yes
  -o max_idle=2s
127.0.0.1:{ports['screened']} inet n - n - 1 postscreen
  -o syslog_name=postfix/screened
  -o smtpd_service_name=screened-smtpd
screened-smtpd pass - - n - - smtpd
  -o syslog_name=postfix/screened
dnsblog   unix - - n - 0 dnsblog
tlsproxy  unix - - n - 0 tlsproxy
cleanup   unix n - n - 0 cleanup
qmgr      unix n - n 300 1 qmgr
tlsmgr    unix - - n 1000? 1 tlsmgr
rewrite   unix - - n - - trivial-rewrite
bounce    unix - - n - 0 bounce
defer     unix - - n - 0 bounce
trace     unix - - n - 0 bounce
verify    unix - - n - 1 verify
flush     unix n - n 1000? 0 flush
proxymap  unix - - n - - proxymap
showq     unix n - n - - showq
error     unix - - n - - error
retry     unix - - n - - error
discard   unix - - n - - discard
smtp      unix - - n - - smtp
virtual   unix - n n - - virtual
anvil     unix - - n - 1 anvil
scache    unix - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
"""


class PostfixInstance:
    """One Postfix under `root`; `cert`/`key` are the smtpd certificate.

    It logs through postlogd to the file `maillog`, or, given
    `syslog_socket`, through syslog(3) to that socket: maillog_file is
    empty and every postfix command runs in a mount namespace whose
    /dev/log is the socket (devlog_namespace)."""

    def __init__(self, root, cert, key, ports, syslog_socket=None):
        self.root = root
        self.syslog_socket = syslog_socket
        self.vmail = os.path.join(root, "vmail")
        self.sink_port = None  # set before configure()
        self.etc = os.path.join(root, "postfix-etc")
        self.queue = os.path.join(root, "queue")
        self.data = os.path.join(root, "data")
        self.maillog = None if syslog_socket else os.path.join(root, "maillog")
        self.cert, self.key, self.ports = cert, key, ports
        self.master_pid = None
        self.started = False

    def configure(self):
        for d in (self.etc, self.queue, self.data):
            os.makedirs(d, exist_ok=True)
        shutil.chown(self.data, "postfix", "postfix")
        os.makedirs(self.vmail, exist_ok=True)
        shutil.chown(self.vmail, 65534, 65534)
        with open(os.path.join(self.etc, "recipient_access"), "w") as f:
            f.write("%s 550 5.7.1 refused by the e2e access map\n" % BLOCKED_RCPT)
        with open(os.path.join(self.etc, "header_checks"), "w") as f:
            f.write("/^Subject: %s/ REJECT refused by the e2e header check\n"
                    % REJECTED_SUBJECT)
        with open(os.path.join(self.etc, "main.cf"), "w") as f:
            f.write(main_cf(self))
        with open(os.path.join(self.etc, "master.cf"), "w") as f:
            f.write(master_cf(self.ports))

    def logging_conf(self):
        if self.syslog_socket:
            return ("# syslog(3): /dev/log, which is the exporter's socket in the\n"
                    "# namespace every postfix command runs in.\nmaillog_file =")
        return "maillog_file = %s\nmaillog_file_prefixes = %s" % (self.maillog, self.root)

    def postfix(self, *args, check=True):
        cmd = ["postfix", "-c", self.etc] + list(args)
        if self.syslog_socket:
            cmd = devlog_namespace.wrap(cmd, self.syslog_socket, self.root)
        return pseproc.run(cmd, check=check)

    def start(self, read_log):
        # `check` creates the queue tree (private/ must exist before Dovecot
        # puts its socket there).
        self.postfix("check")
        self.started = True
        self.postfix("start")
        self.master_pid = wait_for(
            lambda: pseproc.read_pidfile(os.path.join(self.queue, "pid", "master.pid")),
            "Postfix master pid file")
        wait_for(lambda: "daemon started" in read_log(),
                 "master 'daemon started' in the log")
        log("postfix master pid %d, ports %s" % (self.master_pid, self.ports))

    def stop(self):
        if not self.started:
            return
        self.started = False
        if self.master_pid and pseproc.pid_alive(self.master_pid):
            self.postfix("stop", check=False)
            end = time.monotonic() + 10
            while time.monotonic() < end and pseproc.pid_alive(self.master_pid):
                time.sleep(0.05)
        # Anything still carrying our MAIL_CONFIG is a daemon of this instance.
        leftovers = [self.master_pid] if self.master_pid else []
        leftovers += pseproc.pids_with_env("MAIL_CONFIG", self.etc)
        pseproc.kill_pids(leftovers, "postfix", log)

    def smtpd_processes(self, service):
        """Live smtpd processes serving `service` (master passes `-n <name>`)."""
        name = "127.0.0.1:%d" % self.ports[service]
        out = []
        for pid in pseproc.pids_with_env("MAIL_CONFIG", self.etc):
            try:
                with open("/proc/%d/cmdline" % pid, "rb") as f:
                    argv = f.read().split(b"\0")
            except OSError:
                continue
            if argv and argv[0].endswith(b"smtpd") and name.encode() in argv:
                out.append(pid)
        return out


def open_smtpd_sessions(log_text):
    """smtpd sessions the log shows as still open, keyed by pid.

    Opened by `connect from`, closed by `disconnect from`, a `fatal:` of
    that process, or master reporting the pid's death.
    """
    open_ = {}
    for line in log_text.splitlines():
        m = re.search(r" (postfix[^ \[]*)/(smtpd|master)\[(\d+)\]: (.*)$", line)
        if not m:
            continue
        daemon, pid, msg = m.group(2), int(m.group(3)), m.group(4)
        if daemon == "master":
            d = re.search(r"process \S+/smtpd pid (\d+) (exit status|killed by signal)", msg)
            if d:
                open_.pop(int(d.group(1)), None)
            continue
        if msg.startswith("connect from "):
            open_[pid] = line
        elif msg.startswith("disconnect from ") or msg.startswith("fatal: "):
            open_.pop(pid, None)
    return open_
