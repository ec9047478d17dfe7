"""The auth-only Dovecot of the end-to-end test: its configuration
(dovecot_conf, the one place that says how Dovecot is set up, and with it
what Postfix can learn about a failed login) and starting and stopping it.

Dovecot serves SASL only, on a socket in Postfix's queue directory
(private/auth); no IMAP/POP3, no TLS. The users are USERS of e2e_common.
"""
import os
import socket

import devlog_namespace
from e2e_common import USERS, log, wait_for
import pseproc


def dovecot_conf(dovecot_dir, run_dir, users_file, auth_socket, log_path):
    """dovecot.conf text. What the expected SASL failure reasons depend on
    (auth_verbose, mechanisms, the penalty, and that Dovecot logs where the
    exporter reads) is set here and only here;
    truth.Truth.rejected_credentials_reason says what the exporter makes of it.
    `log_path`: Postfix's maillog, or "syslog" (Dovecot then runs where
    /dev/log is the exporter's socket, like Postfix)."""
    return f"""\
# Auth-only Dovecot for the e2e Postfix: no IMAP/POP3, no TLS, one socket.
base_dir = {run_dir}
state_dir = {dovecot_dir}/state
# Dovecot's auth_verbose lines go where Postfix's go, where the exporter
# reads them ("auth: passwd-file(u,ip,<session>): Password mismatch"): they
# give Postfix's "(reason unavailable)" failures their reason.
log_path = {log_path}
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
  args = scheme=PLAIN username_format=%u {users_file}
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
  unix_listener {auth_socket} {{
    mode = 0660
    user = postfix
    group = postfix
  }}
}}
"""


class DovecotInstance:
    """Dovecot under root/dovecot, its auth socket at `auth_socket`, logging
    into the file `maillog` or, given `syslog_socket`, through syslog(3) to
    that socket (devlog_namespace)."""

    def __init__(self, root, auth_socket, maillog=None, syslog_socket=None):
        self.root = root
        self.maillog = maillog
        self.syslog_socket = syslog_socket
        self.dir = os.path.join(root, "dovecot")
        self.conf = os.path.join(self.dir, "dovecot.conf")
        self.run_dir = os.path.join(self.dir, "run")
        self.auth_socket = auth_socket
        self.pid = None

    def configure(self):
        os.makedirs(self.run_dir, exist_ok=True)
        users = os.path.join(self.dir, "users")
        with open(users, "w") as f:
            for u, p in USERS.items():
                f.write("%s:{PLAIN}%s\n" % (u, p))
        os.chmod(users, 0o644)
        with open(self.conf, "w") as f:
            f.write(dovecot_conf(self.dir, self.run_dir, users, self.auth_socket,
                                 "syslog" if self.syslog_socket else self.maillog))

    def start(self):
        pidfile = os.path.join(self.run_dir, "master.pid")
        cmd = ["dovecot", "-c", self.conf]
        if self.syslog_socket:
            cmd = devlog_namespace.wrap(cmd, self.syslog_socket, self.root)
        pseproc.run(cmd)
        self.pid = wait_for(lambda: pseproc.read_pidfile(pidfile), "dovecot master pid file")

        def connectable():
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.connect(self.auth_socket)
                return True
            except OSError:
                return False
            finally:
                s.close()
        wait_for(connectable, "dovecot auth socket")
        log("dovecot master pid %d" % self.pid)

    def stop(self):
        pid, self.pid = self.pid, None
        if not pid:  # perhaps interrupted while it was starting
            pid = pseproc.read_pidfile(os.path.join(self.run_dir, "master.pid"))
        if not pid:
            return
        kids = pseproc.children_of(pid)
        pseproc.kill_pids([pid], "dovecot", log)
        pseproc.kill_pids(kids, "dovecot child", log)
