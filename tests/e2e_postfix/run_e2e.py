#!/usr/bin/env python3
"""End-to-end test against a real Postfix with real Dovecot SASL.

Starts a private Postfix instance (own config, queue and data directories under a
temporary directory, listening only on 127.0.0.1 high ports) with three smtpd
services -- `smtp` without SASL, `submission` (STARTTLS, smtpd_tls_auth_only,
Dovecot SASL) and `smtps` (TLS wrapper mode) -- logging through postlogd to a
`maillog_file`, and a private Dovecot that only serves SASL auth to it. The
exporter under test follows that log file live while a scripted SMTP client
(Python smtplib) logs in, fails in every way we can provoke, is refused relay,
meets a stopped Dovecot and opens bursts of simultaneous sessions. The client
records what it did; at the end /metrics must equal that record exactly:
connects, successes, failures by method and reason, backend errors, relay
denials and peak sessions per service (the issue's list), and also
disconnects, open sessions, queued messages by SASL method, rejects by code,
connections lost after AUTH and anvil's connection count.

Usage (as root):
  run_e2e.py EXPORTER_BINARY [--keep] [--save-log PATH]
  run_e2e.py --no-exporter [--keep] [--save-log PATH]   # scenario + truth only

Exit status: 0 pass, 1 mismatch or error, including missing prerequisites (not
root, or Postfix/Dovecot/OpenSSL not installed: run scripts/install-deps.sh --test).

Nothing is started system-wide: every process is started here, tracked by pid
and stopped in a finally block (and atexit, for signals turned into SystemExit);
the temporary directory is removed unless --keep is given.
"""

import argparse
import atexit
import base64
import collections
import os
import re
import shutil
import signal
import smtplib
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
import psetest  # noqa: E402
from psetest import TestFailure, free_port, parse_exposition  # noqa: E402

LOCAL_DOMAIN = "e2e.test"
EXTERNAL_DOMAIN = "example.org"  # RFC 2606; relay to it must always be denied.
USERS = {"alice": "alice-secret-1", "bob@e2e.test": "bob secret 2"}
# Simultaneous sessions per service in the burst phase; distinct so a swapped
# label shows. Below smtpd_client_connection_count_limit and the process limit.
# Largest last: anvil's final report then carries the largest per-client count.
BURST = {"smtp": 5, "smtps": 6, "submission": 7}
DEADLINE = 60.0  # seconds for any single wait


def log(msg):
    print("[e2e] " + msg, flush=True)


def wait_for(predicate, what, deadline=DEADLINE):
    return psetest.wait_for(predicate, what, deadline=deadline, interval=0.1)


def run(cmd, check=True):
    """Runs cmd to completion; output goes to a file, not a pipe, because the
    daemons it may start (dovecot, postfix master) inherit and keep it open."""
    with tempfile.TemporaryFile("w+") as out:
        proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=out,
                              stderr=subprocess.STDOUT)
        out.seek(0)
        proc.stdout = out.read()
    if check and proc.returncode != 0:
        raise TestFailure("%s failed (%d):\n%s" % (" ".join(cmd), proc.returncode,
                                              proc.stdout))
    return proc


def pid_alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            # A zombie has exited; it only waits for its parent to reap it.
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def children_of(root_pid):
    """All descendants of root_pid, from /proc (pid -> ppid)."""
    parent = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                parent[int(entry)] = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
    found, frontier = [], [root_pid]
    while frontier:
        p = frontier.pop()
        kids = [c for c, pp in parent.items() if pp == p]
        found += kids
        frontier += kids
    return found


def pids_with_env(key, value):
    """Processes whose environment has key=value (Postfix daemons inherit MAIL_CONFIG)."""
    needle = ("%s=%s" % (key, value)).encode()
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open("/proc/%s/environ" % entry, "rb") as f:
                if needle in f.read().split(b"\0"):
                    out.append(int(entry))
        except OSError:
            continue
    return out


def kill_pids(pids, what):
    """SIGTERM, a bounded wait, then SIGKILL -- only the given pids."""
    pids = [p for p in pids if pid_alive(p)]
    for p in pids:
        try:
            os.kill(p, signal.SIGTERM)
        except ProcessLookupError:
            pass
    end = time.monotonic() + 5
    while time.monotonic() < end and any(pid_alive(p) for p in pids):
        time.sleep(0.05)
    for p in pids:
        if pid_alive(p):
            log("%s pid %d ignored SIGTERM; SIGKILL" % (what, p))
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass


def read_pidfile(path):
    try:
        with open(path) as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


# ---------------------------------------------------------------------------
# The Postfix + Dovecot world.

class World:
    def __init__(self, keep):
        self.keep = keep
        self.root = tempfile.mkdtemp(prefix="pse-e2e-")
        # postfix and dovecot users must traverse it (queue, certificate, socket).
        os.chmod(self.root, 0o755)
        self.etc = os.path.join(self.root, "postfix-etc")
        self.queue = os.path.join(self.root, "queue")
        self.data = os.path.join(self.root, "data")
        self.maillog = os.path.join(self.root, "maillog")
        self.dovecot_dir = os.path.join(self.root, "dovecot")
        self.dovecot_conf = os.path.join(self.dovecot_dir, "dovecot.conf")
        self.dovecot_run = os.path.join(self.dovecot_dir, "run")
        self.cert = os.path.join(self.root, "tls", "cert.pem")
        self.key = os.path.join(self.root, "tls", "key.pem")
        self.ports = {}
        self.postfix_master_pid = None
        self.postfix_started = False
        self.dovecot_pid = None
        self.dovecot_kids = []
        self.exporter = None
        self.exporter_err = None

    # -- configuration -----------------------------------------------------

    def configure(self):
        for d in (self.etc, self.queue, self.data, self.dovecot_dir,
                  self.dovecot_run, os.path.dirname(self.cert)):
            os.makedirs(d, exist_ok=True)
        shutil.chown(self.data, "postfix", "postfix")
        self._make_cert()
        used = set()
        for svc in ("smtp", "submission", "smtps"):
            p = free_port()
            while p in used:
                p = free_port()
            used.add(p)
            self.ports[svc] = p
        self._write_postfix_conf()
        self._write_dovecot_conf()

    def _make_cert(self):
        run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
             "-subj", "/CN=localhost",
             "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
             "-keyout", self.key, "-out", self.cert])
        os.chmod(self.key, 0o600)

    def _write_postfix_conf(self):
        r = self.root
        main_cf = f"""\
# Private e2e instance: nothing listens beyond 127.0.0.1, nothing leaves the host.
compatibility_level = 3.6
queue_directory = {self.queue}
data_directory = {self.data}
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
# Everything that is not the local test domain fails at once, inside Postfix.
default_transport = error:e2e test instance delivers nothing outside {LOCAL_DOMAIN}
relay_transport = $default_transport
local_transport = $default_transport
virtual_mailbox_domains = {LOCAL_DOMAIN}
virtual_mailbox_maps = static:ok
virtual_transport = discard:e2e test sink
# Relay only for SASL clients; permit_mynetworks is deliberately absent, so the
# test client on 127.0.0.1 is an outsider and gets 554 5.7.1 Relay access denied.
smtpd_relay_restrictions = permit_sasl_authenticated, reject_unauth_destination
smtpd_recipient_restrictions =
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
smtpd_tls_cert_file = {self.cert}
smtpd_tls_key_file = {self.key}
smtpd_tls_security_level = may
smtpd_tls_loglevel = 1
smtpd_sasl_auth_enable = no
smtpd_sasl_type = dovecot
smtpd_sasl_path = private/auth
# smtpd dies (fatal) when Dovecot is down, and master then pauses the service
# ("bad command startup -- throttling") for 60 s by default; connections wait
# in the listen queue meanwhile. Keep the pause short.
service_throttle_time = 1s
maillog_file = {self.maillog}
maillog_file_prefixes = {r}
biff = no
"""
        # chroot column "n" everywhere: smtpd reaches private/auth and the
        # certificate by their real paths.
        # max_idle=2s on the SASL services: smtpd processes are still reused
        # between quick sessions, yet idle ones go away quickly, so the test can
        # make sure that only fresh processes meet the stopped Dovecot.
        master_cf = f"""\
127.0.0.1:{self.ports['smtp']} inet n - n - - smtpd
127.0.0.1:{self.ports['submission']} inet n - n - - smtpd
  -o syslog_name=postfix/submission
  -o smtpd_tls_security_level=encrypt
  -o smtpd_tls_auth_only=yes
  -o smtpd_sasl_auth_enable=yes
  -o max_idle=2s
127.0.0.1:{self.ports['smtps']} inet n - n - - smtpd
  -o syslog_name=postfix/smtps
  -o smtpd_tls_wrappermode=yes
  -o smtpd_sasl_auth_enable=yes
  -o max_idle=2s
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
anvil     unix - - n - 1 anvil
scache    unix - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
"""
        with open(os.path.join(self.etc, "main.cf"), "w") as f:
            f.write(main_cf)
        with open(os.path.join(self.etc, "master.cf"), "w") as f:
            f.write(master_cf)

    def _write_dovecot_conf(self):
        users = os.path.join(self.dovecot_dir, "users")
        with open(users, "w") as f:
            for u, p in USERS.items():
                f.write("%s:{PLAIN}%s\n" % (u, p))
        os.chmod(users, 0o644)
        conf = f"""\
# Auth-only Dovecot for the e2e Postfix: no IMAP/POP3, no TLS, one socket.
base_dir = {self.dovecot_run}
state_dir = {self.dovecot_dir}/state
# Dovecot's auth_verbose lines go into Postfix's log, where the exporter
# reads them ("auth: Info: passwd-file(u,ip,<session>): ..."): they give
# Postfix's "(reason unavailable)" failures their reason.
log_path = {self.maillog}
protocols = none
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
auth_verbose = yes
default_internal_user = dovecot
default_login_user = dovenull
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {users}
}}
userdb {{
  driver = static
  args = uid=65534 gid=65534 home=/nonexistent
}}
# Dovecot's auth penalty delays every request from an IP with recent failures
# by 2, 4, 8, 15 s; past ~10 s Postfix gives up with "Connection lost to
# authentication server". Real, but not what this test is about: mode 0 is
# the documented way to switch the penalty off.
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service auth {{
  unix_listener {self.queue}/private/auth {{
    mode = 0660
    user = postfix
    group = postfix
  }}
}}
"""
        with open(self.dovecot_conf, "w") as f:
            f.write(conf)

    # -- processes ---------------------------------------------------------

    def postfix(self, *args, check=True):
        return run(["postfix", "-c", self.etc] + list(args), check=check)

    def start_postfix(self):
        # `check` creates the queue tree (private/ must exist before Dovecot
        # puts its socket there).
        self.postfix("check")
        self.postfix_started = True
        self.postfix("start")
        self.postfix_master_pid = wait_for(
            lambda: read_pidfile(os.path.join(self.queue, "pid", "master.pid")),
            "Postfix master pid file")
        wait_for(lambda: "daemon started" in self.read_maillog(),
                 "master 'daemon started' in the maillog")
        log("postfix master pid %d, ports %s" % (self.postfix_master_pid, self.ports))

    def stop_postfix(self):
        if not self.postfix_started:
            return
        self.postfix_started = False
        if self.postfix_master_pid and pid_alive(self.postfix_master_pid):
            self.postfix("stop", check=False)
            end = time.monotonic() + 10
            while time.monotonic() < end and pid_alive(self.postfix_master_pid):
                time.sleep(0.05)
        # Anything still carrying our MAIL_CONFIG is a daemon of this instance.
        leftovers = [self.postfix_master_pid] if self.postfix_master_pid else []
        leftovers += pids_with_env("MAIL_CONFIG", self.etc)
        kill_pids(leftovers, "postfix")

    def start_dovecot(self):
        pidfile = os.path.join(self.dovecot_run, "master.pid")
        run(["dovecot", "-c", self.dovecot_conf])
        self.dovecot_pid = wait_for(lambda: read_pidfile(pidfile), "dovecot master pid file")
        sock = os.path.join(self.queue, "private", "auth")

        def connectable():
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.connect(sock)
                return True
            except OSError:
                return False
            finally:
                s.close()
        wait_for(connectable, "dovecot auth socket")
        log("dovecot master pid %d" % self.dovecot_pid)

    def stop_dovecot(self):
        pid, self.dovecot_pid = self.dovecot_pid, None
        if not pid and self.root:  # interrupted while it was starting
            pid = read_pidfile(os.path.join(self.dovecot_run, "master.pid"))
        if not pid:
            return
        kids = children_of(pid)
        kill_pids([pid], "dovecot")
        kill_pids(kids, "dovecot child")

    def start_exporter(self, binary):
        port = free_port()
        self.exporter_url = "http://127.0.0.1:%d" % port
        self.exporter_err = open(os.path.join(self.root, "exporter.stderr"), "w+")
        cmd = [binary, "--postfix.logfile_path=" + self.maillog,
               "--postfix.logfile_from_beginning",
               "--web.listen-address=127.0.0.1:%d" % port,
               # The peaks must still be in the window when we scrape, however
               # slow this machine is today.
               "--sessions.peak_window=1h"]
        log("starting " + " ".join(cmd))
        self.exporter = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                                         stderr=self.exporter_err)

        def up():
            if self.exporter.poll() is not None:
                raise TestFailure("exporter exited with %s:\n%s" % (
                    self.exporter.returncode, self.exporter_stderr()))
            return scrape(self.exporter_url)  # OSError: not listening yet
        wait_for(up, "exporter /metrics")

    def exporter_stderr(self):
        if not self.exporter_err:
            return ""
        self.exporter_err.flush()
        self.exporter_err.seek(0)
        return self.exporter_err.read()[-4000:]

    def stop_exporter(self):
        if self.exporter and self.exporter.poll() is None:
            self.exporter.send_signal(signal.SIGTERM)
            try:
                self.exporter.wait(5)
            except subprocess.TimeoutExpired:
                self.exporter.kill()
                self.exporter.wait()
        self.exporter = None
        if self.exporter_err:
            self.exporter_err.close()
            self.exporter_err = None

    def shutdown(self):
        for step in (self.stop_exporter, self.stop_postfix, self.stop_dovecot):
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

    def read_maillog(self):
        try:
            with open(self.maillog, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def open_smtpd_sessions(self):
        """smtpd sessions the log shows as still open, keyed by pid.

        Opened by `connect from`, closed by `disconnect from`, a `fatal:` of
        that process, or master reporting the pid's death.
        """
        open_ = {}
        for line in self.read_maillog().splitlines():
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

    def wait_quiescent(self):
        """Until every smtpd session in the log has ended (its last lines are written)."""
        wait_for(lambda: not self.open_smtpd_sessions(), "all smtpd sessions to end in the log")

    def smtpd_processes(self, service):
        """Live smtpd processes serving `service` (master passes `-n <name>`)."""
        name = "127.0.0.1:%d" % self.ports[service]
        out = []
        for pid in pids_with_env("MAIL_CONFIG", self.etc):
            try:
                with open("/proc/%d/cmdline" % pid, "rb") as f:
                    argv = f.read().split(b"\0")
            except OSError:
                continue
            if argv and argv[0].endswith(b"smtpd") and name.encode() in argv:
                out.append(pid)
        return out


# ---------------------------------------------------------------------------
# Truth: what the client did, in the exporter's label vocabulary.

class Truth:
    def __init__(self, postfix_version):
        self.version = tuple(int(x) for x in re.findall(r"\d+", postfix_version)[:3])
        self.connects = collections.Counter()
        self.successes = collections.Counter()
        self.failures = collections.Counter()  # (service, method, reason)
        self.backend_errors = collections.Counter()
        self.relay_denied = collections.Counter()
        self.peak = collections.Counter()
        # Beyond the brief's list, also known exactly from the client's side:
        self.disconnects = collections.Counter()
        self.messages = collections.Counter()  # (service, sasl_method or "none")
        self.lost_after = collections.Counter()  # (service, stage)
        self.anvil_count_max = 0
        self.journal = []

    def note(self, service, what):
        self.journal.append("%-10s %s" % (service, what))

    def failure(self, service, method, reason, what):
        self.failures[(service, method, reason)] += 1
        self.note(service, "%s -> failure %s/%s" % (what, method, reason))

    def rejected_credentials_reason(self, method, user):
        """The reason a wrong password / unknown user gets, from the protocol.

        Dovecot answers both with FAIL and no reason, so Postfix has nothing
        to log but what is left in its reply buffer. Postfix 3.9, and the
        stable patch releases of the same date (Debian 12 ships 3.7.11, whose
        changelog says so), reset that buffer and log `(reason unavailable),
        sasl_username=U`; older ones log nothing for PLAIN (`failed: `) and,
        for LOGIN, the last challenge they sent, base64 "Password:"
        (`UGFzc3dvcmQ6`): bad_credentials. Dovecot logs why (auth_verbose, in
        the same log), so the exporter turns the empty ones into
        bad_credentials (wrong password) or unknown_account (unknown user).
        """
        if method == "LOGIN" and not self.resets_sasl_reason():
            return "bad_credentials"
        return "bad_credentials" if user in USERS else "unknown_account"

    def resets_sasl_reason(self):
        v = self.version
        if v[:2] >= (3, 9):
            return True
        # 3.7.11 is checked (Debian 12). The other branches' first fixed patch
        # levels are from the same stable batch and are NOT verified here.
        first_fixed = {(3, 8): 6, (3, 7): 11, (3, 6): 15, (3, 5): 25}
        return v[:2] in first_fixed and len(v) > 2 and v[2] >= first_fixed[v[:2]]


# ---------------------------------------------------------------------------
# The client.

def b64(s):
    return base64.b64encode(s.encode()).decode()


class Client:
    """One SMTP session to one of our services, from the client's side."""

    def __init__(self, world, truth, service):
        self.world, self.truth, self.service = world, truth, service
        self.tls = ssl.create_default_context(cafile=world.cert)
        port = world.ports[service]
        end = time.monotonic() + DEADLINE
        while True:
            try:
                if service == "smtps":
                    self.smtp = smtplib.SMTP_SSL("127.0.0.1", port, timeout=20,
                                                 context=self.tls)
                else:
                    self.smtp = smtplib.SMTP("127.0.0.1", port, timeout=20)
                break
            except ConnectionRefusedError:
                # Refused before accept(): smtpd never saw it, nothing to count.
                if time.monotonic() > end:
                    raise
                time.sleep(0.1)
        truth.connects[service] += 1
        self.method = None  # SASL method once authenticated

    def cmd(self, line, expect):
        verb, _, arg = line.partition(" ")
        code, msg = self.smtp.docmd(verb, arg)
        if code not in expect:
            raise TestFailure("%s: %r answered %d %s, expected %s" % (
                self.service, line, code, msg.decode(errors="replace"), expect))
        return code, msg

    def ehlo(self):
        code, _ = self.smtp.ehlo("client.e2e.test")
        if code != 250:
            raise TestFailure("%s: EHLO answered %d" % (self.service, code))

    def starttls(self):
        code, msg = self.smtp.starttls(context=self.tls)
        if code != 220:
            raise TestFailure("%s: STARTTLS answered %d %s" % (self.service, code, msg))
        self.ehlo()

    def ready(self):
        """EHLO, plus STARTTLS on submission: the state in which AUTH is offered."""
        self.ehlo()
        if self.service == "submission":
            self.starttls()
        return self

    # AUTH variants; each records its outcome in the truth.

    def auth_plain(self, user, password, good, mech="PLAIN"):
        resp = b64("\0%s\0%s" % (user, password))
        if good:
            self.cmd("AUTH %s %s" % (mech, resp), (235,))
            self.truth.successes[self.service] += 1
            self.method = mech.upper()
            self.truth.note(self.service, "AUTH %s %s ok" % (mech, user))
        else:
            self.cmd("AUTH %s %s" % (mech, resp), (535,))
            method = mech.upper()
            self.truth.failure(self.service, method,
                               self.truth.rejected_credentials_reason(method, user),
                               "AUTH %s %s bad" % (mech, user))

    def auth_login(self, user, password, good):
        self.cmd("AUTH LOGIN", (334,))
        self.cmd(b64(user), (334,))
        if good:
            self.cmd(b64(password), (235,))
            self.truth.successes[self.service] += 1
            self.method = "LOGIN"
            self.truth.note(self.service, "AUTH LOGIN %s ok" % user)
        else:
            self.cmd(b64(password), (535,))
            self.truth.failure(self.service, "LOGIN",
                               self.truth.rejected_credentials_reason("LOGIN", user),
                               "AUTH LOGIN %s bad" % user)

    def auth_unsupported(self, mech, method_label):
        # Dovecot here offers PLAIN and LOGIN only; Postfix refuses the rest.
        self.cmd("AUTH %s" % mech, (535,))
        self.truth.failure(self.service, method_label, "mechanism_unsupported",
                           "AUTH %s (not offered)" % mech)

    def auth_abort(self, mech):
        self.cmd("AUTH %s" % mech, (334,))
        self.cmd("*", (501,))
        self.truth.failure(self.service, mech, "aborted", "AUTH %s then '*'" % mech)

    def auth_not_available(self, why, expect=(503, 504, 530)):
        # Refused by smtpd before SASL is involved: Postfix logs no warning,
        # only auth=0/1 in the disconnect statistics.
        self.cmd("AUTH PLAIN " + b64("\0alice\0" + USERS["alice"]), expect)
        self.truth.failure(self.service, "unknown", "auth_unavailable", "AUTH " + why)

    def hang_up_in_auth(self):
        # The client vanishes in the middle of the exchange: `lost connection
        # after AUTH` and auth=0/1, no SASL warning.
        self.cmd("AUTH PLAIN", (334,))
        self.truth.failure(self.service, "unknown", "aborted", "AUTH PLAIN, hung up")
        self.truth.lost_after[(self.service, "AUTH")] += 1
        self.truth.disconnects[self.service] += 1  # Postfix still logs one
        self.smtp.close()

    def send_local(self, sender="alice@" + LOCAL_DOMAIN):
        rcpt = "postmaster@" + LOCAL_DOMAIN
        refused = self.smtp.sendmail(sender, [rcpt], "Subject: e2e\r\n\r\nhello\r\n")
        if refused:
            raise TestFailure("%s: local delivery refused: %r" % (self.service, refused))
        self.truth.messages[(self.service, self.method or "none")] += 1
        self.truth.note(self.service, "sent mail to " + rcpt)

    def relay_attempt(self, n_rcpts):
        self.cmd("MAIL FROM:<outsider@%s>" % EXTERNAL_DOMAIN, (250,))
        for i in range(n_rcpts):
            self.cmd("RCPT TO:<victim%d@%s>" % (i, EXTERNAL_DOMAIN), (554,))
            self.truth.relay_denied[self.service] += 1
        self.truth.note(self.service, "relay to %s denied x%d" % (EXTERNAL_DOMAIN, n_rcpts))
        self.cmd("RSET", (250,))

    def quit(self):
        self.smtp.quit()
        self.truth.disconnects[self.service] += 1


def scenario(world, truth):
    A, PA = "alice", USERS["alice"]
    B, PB = "bob@e2e.test", USERS["bob@e2e.test"]

    log("phase 1: good logins that send mail")
    for svc in ("submission", "smtps"):
        c = Client(world, truth, svc).ready()
        c.auth_plain(A, PA, good=True)
        c.send_local()
        c.quit()
        c = Client(world, truth, svc).ready()
        c.auth_login(B, PB, good=True)
        c.send_local(sender=B)
        c.quit()
    c = Client(world, truth, "smtp").ready()  # plain inbound mail, no AUTH
    c.send_local(sender="someone@" + EXTERNAL_DOMAIN)
    c.quit()

    log("phase 2: failures one per session")
    for svc in ("submission", "smtps"):
        for user, pw in ((A, "wrong"), ("nobody", "whatever")):
            c = Client(world, truth, svc).ready()
            c.auth_plain(user, pw, good=False)
            c.quit()
            c = Client(world, truth, svc).ready()
            c.auth_login(user, pw, good=False)
            c.quit()
        c = Client(world, truth, svc).ready()
        c.auth_unsupported("CRAM-MD5", "CRAM-MD5")
        c.quit()
        c = Client(world, truth, svc).ready()
        c.auth_unsupported("X-BOGUS-MECH", "other")
        c.quit()
        c = Client(world, truth, svc).ready()
        c.auth_abort("LOGIN")
        c.quit()
        c = Client(world, truth, svc).ready()
        c.hang_up_in_auth()

    c = Client(world, truth, "submission")  # AUTH before STARTTLS
    c.ehlo()
    c.auth_not_available("before STARTTLS (smtpd_tls_auth_only)")
    c.quit()
    c = Client(world, truth, "smtp").ready()  # no SASL on this service
    c.auth_not_available("on a service without SASL")
    c.quit()

    log("phase 3: several attempts in one session")
    c = Client(world, truth, "submission").ready()
    c.auth_plain(A, "wrong-1", good=False)
    c.auth_login(A, "wrong-2", good=False)
    c.auth_plain("nobody", "x", good=False, mech="plain")  # lower-case mechanism
    c.auth_abort("PLAIN")
    c.auth_plain(A, PA, good=True)
    c.auth_not_available("when already authenticated", expect=(503,))
    c.send_local()
    c.quit()
    c = Client(world, truth, "smtps").ready()
    c.auth_login("nobody", "x", good=False)
    c.auth_login(B, PB, good=True)
    c.send_local(sender=B)
    c.quit()

    log("phase 4: unauthenticated relay attempts")
    c = Client(world, truth, "smtp").ready()
    c.relay_attempt(3)
    c.quit()
    c = Client(world, truth, "smtp").ready()
    c.relay_attempt(1)
    c.send_local(sender="someone@" + EXTERNAL_DOMAIN)  # local mail still accepted
    c.quit()
    c = Client(world, truth, "submission").ready()  # TLS, but no AUTH
    c.relay_attempt(2)
    c.quit()

    log("phase 5: Dovecot auth stopped, then restarted")
    world.wait_quiescent()
    # Only fresh smtpd processes must meet the stopped Dovecot: a reused one
    # still holds its old auth connection and would fail differently.
    for svc in ("submission", "smtps"):
        wait_for(lambda: not world.smtpd_processes(svc),
                 "idle %s smtpd processes to exit (max_idle)" % svc, deadline=30)
    world.stop_dovecot()
    for svc, n in (("submission", 2), ("smtps", 1)):
        for _ in range(n):
            session_meets_dead_backend(world, truth, svc)
            world.wait_quiescent()
    world.start_dovecot()
    c = Client(world, truth, "submission").ready()
    c.auth_plain(A, PA, good=True)
    c.send_local()
    c.quit()

    log("phase 6: bursts of simultaneous sessions")
    for svc, n in BURST.items():
        world.wait_quiescent()
        burst(world, truth, svc, n)
    world.wait_quiescent()
    # anvil reports the busiest client's maximum every anvil_status_update_time
    # and then resets it. The largest burst runs last, so whatever anvil
    # reported during the bursts, its last connection-count report is that
    # burst's size once this line is in the log; nothing connects afterwards.
    top = max(BURST.values())
    assert list(BURST.values())[-1] == top
    truth.anvil_count_max = top
    wait_for(lambda: "max connection count %d for" % top in world.read_maillog(),
             "anvil to report connection count %d" % top, deadline=30)


def session_meets_dead_backend(world, truth, service):
    """One session while Dovecot is down.

    smtpd activates SASL after STARTTLS (submission) or right after the TLS
    handshake (smtps, wrapper mode), cannot reach Dovecot and dies with
    `fatal: no SASL authentication mechanisms`: one backend error. Raw
    sockets, so the connect is counted exactly when smtpd has provably
    accepted it (banner, or completed TLS handshake).
    """
    ctx = ssl.create_default_context(cafile=world.cert)
    sock = socket.create_connection(("127.0.0.1", world.ports[service]), timeout=20)
    try:
        if service == "smtps":
            sock = ctx.wrap_socket(sock, server_hostname="localhost")
            truth.connects[service] += 1
        else:
            f = sock.makefile("rb")
            if not f.readline().startswith(b"220"):
                raise TestFailure("%s: no banner" % service)
            truth.connects[service] += 1
            sock.sendall(b"EHLO client.e2e.test\r\n")
            while not f.readline()[:4] == b"250 ":
                pass
            sock.sendall(b"STARTTLS\r\n")
            if not f.readline().startswith(b"220"):
                raise TestFailure("%s: STARTTLS refused" % service)
            sock = ctx.wrap_socket(sock, server_hostname="localhost")
        # smtpd is dying now: the session must end without a greeting/EHLO reply.
        try:
            sock.sendall(b"EHLO client.e2e.test\r\n")
            data = sock.recv(4096)
        except (OSError, ssl.SSLError):
            data = b""
        if data.startswith(b"250") or data.startswith(b"220"):
            raise TestFailure("%s: session survived a stopped Dovecot: %r" % (service, data))
    finally:
        sock.close()
    truth.backend_errors[service] += 1
    truth.note(service, "session while Dovecot is down -> backend error")


def burst(world, truth, service, n):
    """n sessions of one service open at the same moment, then all closed."""
    barrier = threading.Barrier(n, timeout=DEADLINE)
    errors = []
    lock = threading.Lock()

    def one():
        try:
            c = Client(world, truth_local, service)
            c.ehlo()
            barrier.wait()  # all n banners received: all n connects are logged
            c.quit()
        except Exception as e:  # reported below; a broken barrier releases the rest
            with lock:
                errors.append(repr(e))
            barrier.abort()

    truth_local = Truth("0.0")
    threads = [threading.Thread(target=one) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise TestFailure("%s burst failed: %s" % (service, errors))
    truth.connects[service] += truth_local.connects[service]
    truth.disconnects[service] += truth_local.disconnects[service]
    # Outside the bursts the client holds one session at a time, and each
    # burst starts only once the log shows every earlier session ended
    # (wait_quiescent); a session's end may still be logged just after the
    # next one's start, so outside bursts the log shows at most 2 at once.
    assert n > 2
    truth.peak[service] = max(truth.peak[service], n)
    truth.note(service, "burst of %d simultaneous sessions" % n)


# ---------------------------------------------------------------------------
# Scraping and comparing.

def scrape(url):
    status, _, body = psetest.http_get(url + "/metrics")
    psetest.check(status == 200, "GET %s/metrics: status %d" % (url, status))
    return parse_exposition(body.decode())


def family(samples, name, keys):
    """{label values tuple: value} for the non-zero samples of one metric."""
    out = {}
    for key, v in samples.family(name).items():
        if v == 0:
            continue
        labels = samples.labels(key)
        out[tuple(labels.get(k, "") for k in keys)] = v
    return out


# For each compared metric: the label keys, and the log lines that feed it.
FAMILIES = {
    "postfix_smtpd_connects_total": (("service",), r"smtpd\[\d+\]: connect from "),
    "postfix_smtpd_sasl_authentication_successes_total": (
        ("service",), r"smtpd\[\d+\]: disconnect from .* auth="),
    "postfix_smtpd_sasl_authentication_failures_total": (
        ("service", "method", "reason"),
        r"smtpd\[\d+\]: (warning: .*SASL|disconnect from .* auth=|.*after AUTH|fatal:)"),
    "postfix_smtpd_sasl_backend_errors_total": (
        ("service",), r"smtpd\[\d+\]: (warning: SASL|fatal:)"),
    "postfix_smtpd_relay_denied_total": (("service",), r"Relay access denied"),
    "postfix_smtpd_sessions_max": (
        ("service",), r"(smtpd\[\d+\]: (connect|disconnect) from|fatal:|master\[\d+\]: .*pid)"),
    # Additions to the brief's list, equally known from the client's side.
    "postfix_smtpd_disconnects_total": (("service",), r"smtpd\[\d+\]: disconnect from "),
    "postfix_smtpd_sessions": (
        ("service",), r"(smtpd\[\d+\]: (connect|disconnect) from|fatal:|master\[\d+\]: .*pid)"),
    "postfix_smtpd_messages_processed_total": (
        ("service", "sasl_method"), r"smtpd\[\d+\]: \w+: client="),
    "postfix_smtpd_messages_rejected_total": (("service", "code"), r": reject: "),
    "postfix_smtpd_connections_lost_total": (
        ("service", "after_stage"), r"smtpd\[\d+\]: .*(lost connection|timeout|too many errors) after"),
    "postfix_anvil_connection_count_max": ((), r"anvil\[\d+\]: statistics: max connection count"),
}


def expected_families(truth):
    def by_service(counter):
        return {(s,): float(v) for s, v in counter.items() if v}
    return {
        "postfix_smtpd_connects_total": by_service(truth.connects),
        "postfix_smtpd_sasl_authentication_successes_total": by_service(truth.successes),
        "postfix_smtpd_sasl_authentication_failures_total":
            {k: float(v) for k, v in truth.failures.items() if v},
        "postfix_smtpd_sasl_backend_errors_total": by_service(truth.backend_errors),
        "postfix_smtpd_relay_denied_total": by_service(truth.relay_denied),
        "postfix_smtpd_sessions_max": by_service(truth.peak),
        "postfix_smtpd_disconnects_total": by_service(truth.disconnects),
        "postfix_smtpd_sessions": {},  # every session has ended: all zero
        "postfix_smtpd_messages_processed_total":
            {k: float(v) for k, v in truth.messages.items() if v},
        # Relay denials are the only rejects the client provoked.
        "postfix_smtpd_messages_rejected_total":
            {(s, "554"): float(v) for s, v in truth.relay_denied.items() if v},
        "postfix_smtpd_connections_lost_total":
            {k: float(v) for k, v in truth.lost_after.items() if v},
        "postfix_anvil_connection_count_max":
            {(): float(truth.anvil_count_max)} if truth.anvil_count_max else {},
    }


def compare(world, truth, samples):
    mismatches = 0
    maillog = world.read_maillog().splitlines()
    for name, expected in expected_families(truth).items():
        keys, line_re = FAMILIES[name]
        actual = family(samples, name, keys)
        if actual == expected:
            log("ok   %s %s" % (name, sorted(expected.items())))
            continue
        mismatches += 1
        log("FAIL %s" % name)
        for k in sorted(set(expected) | set(actual)):
            e, a = expected.get(k, 0), actual.get(k, 0)
            mark = "   " if e == a else "!!!"
            log("  %s %s expected %g actual %g" % (mark, dict(zip(keys, k)), e, a))
        log("  log lines of this family:")
        for line in maillog:
            if re.search(line_re, line):
                print("    " + line)
    return mismatches


def save_truth(truth, path):
    """The client's record as JSON: one metric sample per line, then the journal."""
    import json
    lines = ['{"postfix_version": %s,' % json.dumps(".".join(map(str, truth.version))),
             ' "metrics": {']
    fams = list(expected_families(truth).items())
    for i, (name, fam) in enumerate(fams):
        keys = FAMILIES[name][0]
        samples = [json.dumps(dict(zip(keys, k), value=v)) for k, v in sorted(fam.items())]
        lines.append('  %s: [%s]%s' % (json.dumps(name), ",\n    ".join(samples),
                                          "," if i + 1 < len(fams) else ""))
    lines.append(' },')
    lines.append(' "client_journal": [%s]' % ",\n  ".join(json.dumps(j) for j in truth.journal))
    lines.append('}')
    text = "\n".join(lines) + "\n"
    json.loads(text)  # stays valid JSON
    with open(path, "w") as f:
        f.write(text)
    log("saved truth to " + path)


def lines_read(url):
    return scrape(url).value("postfix_exporter_log_lines_total")


def held(url):
    return scrape(url).value("postfix_exporter_sasl_failures_held")


# ---------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("exporter", nargs="?", help="postfix_sasl_exporter binary")
    ap.add_argument("--no-exporter", action="store_true",
                    help="run the scenario and print the truth only")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    ap.add_argument("--save-log", help="copy the resulting maillog here")
    ap.add_argument("--save-truth", help="write the client's record (expected metrics) here, as JSON")
    args = ap.parse_args()
    if not args.exporter and not args.no_exporter:
        ap.error("give the exporter binary or --no-exporter")

    try:
        psetest.require_root("starts a private Postfix and Dovecot")
        for tool, package in (("postfix", "postfix"), ("postconf", "postfix"),
                              ("dovecot", "dovecot-core"), ("openssl", "openssl")):
            psetest.require_tool(tool, package)
    except TestFailure as e:
        log("FAIL: %s" % e)
        return 1
    if args.exporter and not os.access(args.exporter, os.X_OK):
        log("exporter binary %s is not executable" % args.exporter)
        return 1

    version = run(["postconf", "-d", "-h", "mail_version"]).stdout.strip()
    log("Postfix %s, %s" % (version, run(["dovecot", "--version"]).stdout.strip()))
    truth = Truth(version)
    world = World(args.keep)
    atexit.register(world.shutdown)
    # SIGTERM (ctest timeout) must still clean up: turn it into SystemExit.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    status = 1
    try:
        world.configure()
        world.start_postfix()
        world.start_dovecot()
        if args.exporter:
            world.start_exporter(os.path.abspath(args.exporter))
        started = time.monotonic()
        scenario(world, truth)
        log("scenario done in %.1fs" % (time.monotonic() - started))
        # Stop the servers first so the log is final (their stop lines included).
        world.stop_postfix()
        world.stop_dovecot()
        if args.save_log:
            shutil.copyfile(world.maillog, args.save_log)
            log("saved maillog to " + args.save_log)
        log("client journal:\n  " + "\n  ".join(truth.journal))
        if args.save_truth:
            save_truth(truth, args.save_truth)
        if not args.exporter:
            for name, fam in expected_families(truth).items():
                log("truth %s %s" % (name, sorted(fam.items())))
            status = 0
            return status
        with open(world.maillog, "rb") as f:
            n_lines = f.read().count(b"\n")
        try:
            # ... and to count the failures it held for Dovecot's reason.
            wait_for(lambda: lines_read(world.exporter_url) == n_lines and held(
                world.exporter_url) == 0,
                     "exporter to read all %d log lines" % n_lines, deadline=30)
        except TestFailure as e:
            raise TestFailure("%s (it has read %s)\nexporter stderr:\n%s" % (
                e, lines_read(world.exporter_url), world.exporter_stderr()))
        samples = scrape(world.exporter_url)
        mismatches = compare(world, truth, samples)
        if mismatches:
            log("%d metric families differ from what the client did" % mismatches)
        else:
            log("PASS: all metric families equal the client's record")
            status = 0
    except Exception as e:
        if isinstance(e, TestFailure):
            log("ERROR: %s" % e)
        else:
            import traceback
            log("ERROR:\n" + traceback.format_exc())
        tail = world.read_maillog().splitlines()[-40:]
        if tail:
            log("last maillog lines:\n    " + "\n    ".join(tail))
    finally:
        world.shutdown()
    return status


if __name__ == "__main__":
    sys.exit(main())
