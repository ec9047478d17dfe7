"""The scripted SMTP client of the end-to-end test: one Client per session
to one of the instance's services (smtplib, over TLS where the service
wants it), plus the two raw-socket shapes smtplib cannot make (a session
meeting a stopped Dovecot, a burst of simultaneous sessions).

Each action checks Postfix's reply and records its expected effect in the
Truth at the moment it is certain (a connect once smtpd has provably
accepted it, a failure once the reply came).
"""
import base64
import smtplib
import socket
import ssl
import threading
import time

from e2e_common import DEADLINE, LOCAL_DOMAIN, EXTERNAL_DOMAIN, USERS
from postfix_instance import BLOCKED_RCPT, REJECTED_SUBJECT
from psetest import TestFailure
from truth import Truth


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
        if service == "smtps":
            truth.tls_handshake(service, self.smtp.sock)
        self.method = None  # SASL method once authenticated
        if service == "screened":
            # postscreen let us through: after the greeting wait the first
            # time (PASS NEW), at once once its cache knows 127.0.0.1.
            action = "pass_old" if truth.postscreen_passed else "pass_new"
            truth.postscreen[(service, action)] += 1
            truth.postscreen_passed = True
            truth.note(service, "postscreen " + action)
            # One session at a time on this service (the scenario waits for
            # each to end in the log before the next).
            truth.peak[service] = max(truth.peak[service], 1)

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
        self.truth.tls_handshake(self.service, self.smtp.sock)
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

    def send(self, rcpts, sender="alice@" + LOCAL_DOMAIN):
        refused = self.smtp.sendmail(sender, rcpts, "Subject: e2e\r\n\r\nhello\r\n")
        if refused:
            raise TestFailure("%s: recipients refused: %r" % (self.service, refused))
        self.truth.messages[(self.service, self.method or "none")] += 1
        self.truth.accepted_message(sender, rcpts)
        self.truth.note(self.service, "sent mail to " + ", ".join(rcpts))

    def send_local(self, sender="alice@" + LOCAL_DOMAIN):
        self.send(["postmaster@" + LOCAL_DOMAIN], sender)

    def send_rejected_by_header(self, sender="alice@" + LOCAL_DOMAIN):
        # smtpd has queued it (client=) when cleanup's header_checks refuse
        # it at the end of DATA: no message-id, no qmgr, no smtpd reject line.
        try:
            self.smtp.sendmail(sender, ["postmaster@" + LOCAL_DOMAIN],
                               "Subject: %s\r\n\r\nhello\r\n" % REJECTED_SUBJECT)
            raise TestFailure("%s: header_checks did not reject" % self.service)
        except smtplib.SMTPDataError as e:
            if e.smtp_code != 550:
                raise
        self.truth.messages[(self.service, self.method or "none")] += 1
        self.truth.cleanup_rejected += 1
        self.truth.note(self.service, "mail refused by header_checks")

    def rcpt_blocked(self):
        self.cmd("MAIL FROM:<alice@%s>" % LOCAL_DOMAIN, (250,))
        self.cmd("RCPT TO:<%s>" % BLOCKED_RCPT, (550,))
        self.truth.rejects[(self.service, "550")] += 1
        self.truth.note(self.service, "RCPT %s refused by the access map" % BLOCKED_RCPT)
        self.cmd("RSET", (250,))

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
            truth.tls_handshake(service, sock)
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
            truth.tls_handshake(service, sock)
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


def pregreet(world, truth):
    """A client that talks before its turn: postscreen logs PREGREET and,
    with postscreen_greet_action = drop, hangs up. Only a client postscreen
    does not know yet is tested, so this must come before any pass."""
    if truth.postscreen_passed:
        raise TestFailure("pregreet after a postscreen pass would not be tested")
    sock = socket.create_connection(("127.0.0.1", world.ports["screened"]), timeout=20)
    try:
        f = sock.makefile("rb")
        if not f.readline().startswith(b"220-"):
            raise TestFailure("screened: no postscreen greeting")
        sock.sendall(b"EHLO early.e2e.test\r\n")
        try:
            data = f.read()
        except OSError:
            data = b""
        if data and not data.startswith(b"521"):
            raise TestFailure("screened: pregreet client answered %r" % data)
    finally:
        sock.close()
    truth.postscreen[("screened", "pregreet")] += 1
    truth.note("screened", "talked first -> postscreen PREGREET, dropped")


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
    truth.tls += truth_local.tls
    # Outside the bursts the client holds one session at a time, and each
    # burst starts only once the log shows every earlier session ended
    # (wait_quiescent); a session's end may still be logged just after the
    # next one's start, so outside bursts the log shows at most 2 at once.
    assert n > 2
    truth.peak[service] = max(truth.peak[service], n)
    truth.note(service, "burst of %d simultaneous sessions" % n)
