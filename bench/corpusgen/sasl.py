"""SASL failure scenarios: one failed AUTH attempt in the current segment's
Postfix and backend flavour (every failure reason), brute-force sessions,
an smtpd dying without SASL mechanisms, and bursts of parallel authenticated
sessions from one provider. A mixin of Gen."""

from corpusgen.model import SMTPD_PATH, LOCAL_DOMAINS, DICTIONARY


class SaslMixin:
    def failure(self, s, t, method, user):
        """One failed AUTH attempt in this segment's Postfix/backend flavour."""
        r = self.r
        x = r.random()
        if self.seg_cyrus:
            if x < 0.40:
                self.sasl_failed(s, t, method, "authentication failure", "bad_credentials", user,
                                 ("SASL authentication failure: Password verification failed",
                                  False))
            elif x < 0.62:
                self.sasl_failed(s, t, method, "authentication failure", "unknown_account", user,
                                 ("SASL authentication failure: user not found", False))
            elif x < 0.72:
                self.sasl_failed(s, t, "CRAM-MD5", "authentication failure", "unknown_account",
                                 user, ("SASL authentication problem: user: %s property: "
                                        "cmusaslsecretCRAM-MD5 not found in sasldb" % user, False))
            elif x < 0.80:
                self.sasl_failed(s, t, method, "authentication failure", "bad_credentials", user)
            elif x < 0.86:
                self.sasl_failed(s, t, method, "generic failure", "backend_unavailable", user,
                                 ("SASL authentication failure: cannot connect to saslauthd "
                                  "server: No such file or directory", True))
            elif x < 0.90:
                self.sasl_failed(s, t, method, "bad protocol / cancel", "protocol_error", user)
            elif x < 0.93:
                self.sasl_failed(s, t, "DIGEST-MD5", "no mechanism available",
                                 "mechanism_unsupported", user)
            elif x < 0.96:
                self.sasl_failed(s, t, method, "transient failure (e.g., weak key)",
                                 "backend_unavailable", user)
            else:
                self.sasl_aborted(s, t, "LOGIN")
        else:
            if x < 0.45:
                if self.seg_form39:
                    self.sasl_failed(s, t, method, "", "unspecified", user)
                else:
                    self.sasl_failed(s, t, "LOGIN", "UGFzc3dvcmQ6", "bad_credentials", user)
            elif x < 0.62:
                self.sasl_failed(s, t, "LOGIN", "UGFzc3dvcmQ6", "bad_credentials", user)
            elif x < 0.68:
                self.sasl_failed(s, t, "login", "VXNlcm5hbWU6", "bad_credentials", user)
            elif x < 0.76:
                if self.seg_form39:
                    mech = r.choice(("XOAUTH2", "NTLM", "FOO-BAR"))
                    self.sasl_failed(s, t, mech, "Invalid authentication mechanism: '%s'" % mech,
                                     "mechanism_unsupported", "(unavailable)")
                else:
                    self.sasl_failed(s, t, "NTLM", "Invalid authentication mechanism",
                                     "mechanism_unsupported", user)
            elif x < 0.82:
                self.sasl_failed(s, t, method, "", "unspecified", user)
            elif x < 0.86:
                self.sasl_failed(s, t, method, "Authentication request timed out",
                                 "backend_unavailable", user)
            elif x < 0.90:
                self.sasl_failed(s, t, "PLAIN", "", "backend_unavailable", user,
                                 ("SASL: Connect to Dovecot auth socket 'private/auth' failed: "
                                  "Connection refused", True))
            elif x < 0.94:
                self.sasl_failed(s, t, "PLAIN", "Invalid base64 data in continued response",
                                 "protocol_error", user)
            else:
                self.sasl_aborted(s, t, "LOGIN")

    def brute_force(self, t):
        r = self.r
        service = "submission" if r.random() < 0.7 else "smtps"
        ip = r.choice(self.attackers)
        s = {}
        self.connect(s, t, service, "unknown[%s]" % ip)
        starttls = 0
        if service == "submission" and r.random() < 0.6:
            starttls = 1
        if starttls or service == "smtps":
            self.tls_in(s, t + 0.2)
        tt = t + 0.5
        ehlo = [("ehlo", 1 + starttls, 1 + starttls), ("starttls", starttls, starttls)]
        if service == "submission" and not starttls and r.random() < 0.5:
            # smtpd_tls_auth_only: AUTH before STARTTLS is refused and not logged.
            n = r.randrange(1, 3)
            self.disconnect(s, tt + 0.1, ehlo + [("auth", 0, n), ("quit", 1, 1)])
            self.m.stats["session_auth_before_tls"] += 1
            return
        k = r.choice((1, 1, 2, 3, 3))
        user = r.choice(DICTIONARY) + ("@" + r.choice(LOCAL_DOMAINS) if r.random() < 0.5 else "")
        method = r.choice(("LOGIN", "LOGIN", "PLAIN", "login"))
        for _ in range(k):
            self.failure(s, tt, method, user)
            tt += r.uniform(0.5, 3.0)
        x = r.random()
        if x < 0.45:
            self.disconnect(s, tt, ehlo + [("auth", 0, k), ("quit", 1, 1)])
        elif x < 0.70:
            self.abort(s, tt, "too many errors", "AUTH")
            self.disconnect(s, tt + 0.001, ehlo + [("auth", 0, k)])
        elif x < 0.85:
            u = r.choice((0, 1))  # the client dropped mid-exchange: not logged
            self.abort(s, tt, "lost connection", "AUTH")
            self.disconnect(s, tt + 0.001, ehlo + [("auth", 0, k + u)])
        elif x < 0.97:
            self.abort(s, tt + 300, "timeout", "AUTH")
            self.disconnect(s, tt + 300.001, ehlo + [("auth", 0, k + 1)])
        else:
            self.killed(s, tt + 1)  # no disconnect line; pid is not reused
        self.m.stats["session_brute_force"] += 1

    def backend_down(self, t):
        """Dovecot socket missing at smtpd start-up: warning, fatal, master notes."""
        service = "submission" if self.r.random() < 0.7 else "smtps"
        s = {}
        self.connect(s, t, service, "unknown[%s]" % self.r.choice(self.attackers))
        self.push(t + 0.05, s["tag"], "warning: SASL: Connect to Dovecot auth socket "
                  "'private/auth' failed: No such file or directory")
        self.push(t + 0.05, s["tag"], "fatal: no SASL authentication mechanisms")
        m = "postfix/master[%d]" % self.pid_master
        self.push(t + 1, m, "warning: process %s pid %d exit status 1" % (SMTPD_PATH, s["pid"]))
        self.push(t + 1, m, "warning: %s: bad command startup -- throttling" % SMTPD_PATH)
        self.m.inc("postfix_smtpd_sasl_backend_errors_total", service=service)
        self.session_end(s, t + 0.05)
        self.m.stats["session_backend_down"] += 1

    def burst(self, t):
        """A mail provider opens several authenticated sessions at once (e.g. Gmail's
        "send mail as" relaying through us); an overloaded saslauthd fails one of them."""
        r = self.r
        n = r.randrange(4, 9)
        for i in range(n):
            s = {}
            ip = "209.85.221.%d" % r.randrange(1, 255)
            self.connect(s, t + i * 0.003, "submission", "mail-wr1-f%d.google.com[%s]" %
                         (r.randrange(10, 99), ip))
            self.tls_in(s, t + 0.1)
            tt = t + r.uniform(0.2, 0.6)
            if i == n - 1 and r.random() < 0.3:
                self.sasl_failed(s, tt, "PLAIN", "generic failure", "backend_unavailable",
                                 "relay@example.org",
                                 ("SASL authentication failure: cannot connect to saslauthd "
                                  "server: Resource temporarily unavailable", True))
                self.disconnect(s, tt + 0.2, [("ehlo", 2, 2), ("starttls", 1, 1), ("auth", 0, 1),
                                              ("quit", 1, 1)])
                continue
            qid = self.qid()
            self.client_line(s, tt, qid, "PLAIN", "relay@example.org")
            self.deliver_remote(tt + 0.05, qid, "relay@example.org", 1, r.randrange(3000, 90000),
                                "CA+%x@mail.gmail.com" % r.getrandbits(64))
            self.disconnect(s, tt + r.uniform(0.3, 1.5),
                            [("ehlo", 2, 2), ("starttls", 1, 1), ("auth", 1, 1), ("mail", 1, 1),
                             ("rcpt", 1, 1), ("data", 1, 1), ("quit", 1, 1)])
        self.m.stats["session_burst"] += 1
