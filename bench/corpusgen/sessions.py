"""SMTP sessions without SASL failures: accepted inbound mail on port 25,
spam rejects, Relay access denied probes, port scans and broken clients, and
authenticated submissions (some after a mistyped password). A mixin of Gen."""

from corpusgen.model import MX_IP, LOCAL_DOMAINS, REMOTE_MX, SENDER_HOSTS, HELOS, DICTIONARY, s_last


class SessionsMixin:
    # ---- SMTP sessions ------------------------------------------------------
    def mx_accept(self, t):
        r = self.r
        host = r.choice(SENDER_HOSTS)
        ip = self.rand_ip()
        port = r.randrange(1024, 65535)
        self.postscreen_pass(t, ip, port)
        s = {}
        t += 0.01
        self.connect(s, t, "smtp", "%s[%s]" % (host, ip))
        tls = r.random() < 0.85
        if tls:
            self.tls_in(s, t + 0.15)
        nmsg = 1 if r.random() < 0.9 else 2
        tt = t + 0.3
        for _ in range(nmsg):
            qid = self.qid()
            self.client_line(s, tt, qid)
            sender = "%s@%s" % (r.choice(DICTIONARY), host.split(".", 1)[1])
            rcpt = r.choice(self.legit_users)
            self.deliver_local(tt + 0.05, qid, sender, rcpt, r.randrange(900, 90000),
                               "%x.%s@%s" % (r.getrandbits(48), r.randrange(1000), host))
            tt += r.uniform(0.3, 1.5)
        cmds = [("ehlo", 2 if tls else 1, 2 if tls else 1), ("starttls", int(tls), int(tls)),
                ("mail", nmsg, nmsg), ("rcpt", nmsg, nmsg), ("data", nmsg, nmsg), ("quit", 1, 1)]
        self.disconnect(s, tt, cmds)
        self.m.stats["session_mx_accept"] += 1

    def mx_reject(self, t):
        r = self.r
        ip = r.choice(self.attackers)
        port = r.randrange(1024, 65535)
        self.postscreen_pass(t, ip, port)
        s = {}
        t += 0.01
        client = "unknown[%s]" % ip
        self.connect(s, t, "smtp", client)
        helo = r.choice(HELOS)
        if r.random() < 0.3:
            self.push(t + 0.001, s["tag"], "warning: hostname %s.example.biz does not resolve to "
                      "address %s: Name or service not known" % (self.ipname(ip), ip))
            self.m.inc("postfix_smtpd_forward_confirmed_reverse_dns_errors_total",
                       service="smtp")
        n = r.randrange(1, 4)
        tt = t + 0.5
        sender = "%s@%s" % (r.choice(DICTIONARY), "example.biz")
        for _ in range(n):
            rcpt = "%s@%s" % (r.choice(DICTIONARY), r.choice(LOCAL_DOMAINS))
            x = r.random()
            tail = "from=<%s> to=<%s> proto=ESMTP helo=<%s>" % (sender, rcpt, helo)
            if x < 0.45:
                self.reject(s, tt, "RCPT", 550, "5.1.1 <%s>: Recipient address rejected: User "
                            "unknown in local recipient table" % rcpt, tail, "recipient")
            elif x < 0.7:
                self.reject(s, tt, "RCPT", 450, "4.7.1 Client host rejected: cannot find your "
                            "hostname, [%s]" % ip, tail, "client")
            elif x < 0.9:
                self.reject(s, tt, "RCPT", 554, "5.7.1 Service unavailable; Client host [%s] "
                            "blocked using bl.spamcop.net; Blocked - see "
                            "https://www.spamcop.net/bl.shtml?%s" % (ip, ip), tail, "rbl")
            else:
                self.reject(s, tt, "RCPT", 504, "5.5.2 <%s>: Helo command rejected: need fully-"
                            "qualified hostname" % helo, tail, "helo")
            tt += r.uniform(0.1, 0.8)
        if r.random() < 0.7:
            cmds = [("ehlo", 1, 1), ("mail", 1, 1), ("rcpt", 0, n), ("quit", 1, 1)]
        else:
            self.abort(s, tt, "lost connection", "RCPT")
            cmds = [("ehlo", 1, 1), ("mail", 1, 1), ("rcpt", 0, n)]
        self.disconnect(s, tt + 0.001, cmds)
        self.m.stats["session_mx_reject"] += 1

    def relay_probe(self, t):
        r = self.r
        ip = r.choice(self.attackers)
        service = "smtp" if r.random() < 0.75 else "submission"
        if service == "smtp":
            self.postscreen_pass(t, ip, r.randrange(1024, 65535))
            t += 0.01
        s = {}
        self.connect(s, t, service, "unknown[%s]" % ip)
        helo = r.choice(HELOS)
        n = r.randrange(1, 4)
        tt = t + 0.4
        sender = "%s@%s" % (r.choice(DICTIONARY), r.choice(LOCAL_DOMAINS))
        for _ in range(n):
            mxh, mxip, dom = r.choice(REMOTE_MX)
            rcpt = "%s%d@%s" % (r.choice(DICTIONARY), r.randrange(100), dom)
            code, ext = (554, "5.7.1") if r.random() < 0.9 else (454, "4.7.1")
            self.reject(s, tt, "RCPT", code, "%s <%s>: Relay access denied" % (ext, rcpt),
                        "from=<%s> to=<%s> proto=ESMTP helo=<%s>" % (sender, rcpt, helo),
                        "relay", relay=True)
            tt += r.uniform(0.05, 0.5)
        cmds = [("ehlo", 1, 1), ("mail", 1, 1), ("rcpt", 0, n), ("rset", 1, 1), ("quit", 1, 1)]
        self.disconnect(s, tt, cmds)
        self.m.stats["session_relay_probe"] += 1

    def scan(self, t):
        """Port scanners and broken clients: lost/timeout before any mail."""
        r = self.r
        ip = r.choice(self.attackers)
        service = r.choice(("smtp", "smtp", "submission", "smtps"))
        if service == "smtp":
            self.postscreen_pass(t, ip, r.randrange(1024, 65535))
            t += 0.01
        s = {}
        self.connect(s, t, service, "unknown[%s]" % ip)
        x = r.random()
        if x < 0.35:
            self.abort(s, t + 0.2, "lost connection", "CONNECT")
            cmds = []
        elif x < 0.55:
            self.abort(s, t + 0.4, "lost connection", "EHLO")
            cmds = [("ehlo", 1, 1)]
        elif x < 0.7:
            self.push(t + 0.1, s["tag"], "improper command pipelining after CONNECT from %s: "
                      "GET / HTTP/1.1\\r\\nHost: %s\\r\\n" % (s["client"], MX_IP))
            cmds = [("unknown", 0, 1)]
        elif x < 0.85 and service == "submission":
            self.push(t + 0.3, s["tag"], "SSL_accept error from %s: lost connection" % s["client"])
            self.abort(s, t + 0.3, "lost connection", "STARTTLS")
            cmds = [("ehlo", 1, 1), ("starttls", 1, 1)]
        else:
            self.abort(s, t + 300, "timeout", "EHLO" if r.random() < 0.5 else "CONNECT")
            cmds = [("ehlo", 1, 1)]
        self.disconnect(s, s_last(self, t), cmds)
        self.m.stats["session_scan"] += 1

    def submission_ok(self, t):
        r = self.r
        service = "submission" if r.random() < 0.75 else "smtps"
        host, ip = r.choice(self.legit_clients)
        user = r.choice(self.legit_users)
        s = {}
        self.connect(s, t, service, "%s[%s]" % (host, ip))
        self.tls_in(s, t + 0.1)
        method = r.choice(("PLAIN", "PLAIN", "PLAIN", "LOGIN", "login", "Plain", "CRAM-MD5"))
        tt = t + 0.3
        fails = 1 if r.random() < 0.07 else 0
        for _ in range(fails):  # a typo before the right password
            self.failure(s, tt, method, user)
            tt += r.uniform(1, 4)
        nmsg = 1 if r.random() < 0.85 else r.randrange(2, 4)
        for _ in range(nmsg):
            qid = self.qid()
            self.client_line(s, tt, qid, method, user)
            self.deliver_remote(tt + 0.05, qid, user, r.randrange(1, 3), r.randrange(1500, 3000000),
                                "%x@%s" % (r.getrandbits(64), user.split("@")[1]))
            tt += r.uniform(0.2, 2.0)
        starttls = 1 if service == "submission" else 0
        cmds = [("ehlo", 1 + starttls, 1 + starttls), ("starttls", starttls, starttls),
                ("auth", 1, 1 + fails), ("mail", nmsg, nmsg), ("rcpt", nmsg, nmsg),
                ("data", nmsg, nmsg), ("quit", 1, 1)]
        self.disconnect(s, tt, cmds)
        self.m.stats["session_submission_ok"] += 1
