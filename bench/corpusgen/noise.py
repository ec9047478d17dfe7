"""Lines that are not smtpd sessions: local and remote deliveries (cleanup,
qmgr, smtp, lmtp, local, opendkim), Dovecot IMAP logins, postscreen drops,
anvil statistics and master's process-limit warnings. A mixin of Gen: it
uses Writer's random source, pools and push()."""

from corpusgen.model import HOST, MX_IP, TLS_IN12, LOCAL_DOMAINS, REMOTE_MX, HELOS, DICTIONARY

# delays=a/b/c/d, the `stage` label of the delay histograms.
STAGES = ("before_queue_manager", "queue_manager", "connection_setup", "transmission")


class NoiseMixin:
    def deliver_local(self, t, qid, sender, rcpt, size, msgid):
        r = self.r
        self.push(t, "postfix/cleanup[%d]" % r.choice(self.pool["cleanup"]),
                  "%s: message-id=<%s>" % (qid, msgid))
        self.flow_cleanup_and_qmgr()
        if r.random() < 0.5:
            self.push(t + 0.01, "opendkim[%d]" % self.pool["opendkim"][0],
                      "%s: %s [%s] not internal" % (qid, "mail.example.net", MX_IP)
                      if r.random() < 0.3 else "%s: DKIM verification successful" % qid)
        self.push(t + 0.02, "postfix/qmgr[%d]" % self.pid_qmgr,
                  "%s: from=<%s>, size=%d, nrcpt=1 (queue active)" % (qid, sender, size))
        d = r.uniform(0.05, 0.9)
        if r.random() < 0.8:
            lmtp = r.choice(self.pool["lmtp"])
            self.push(t + 0.03 + d, "postfix/lmtp[%d]" % lmtp,
                      "%s: to=<%s>, relay=%s[private/dovecot-lmtp], delay=%.2f, "
                      "delays=%.2f/0.01/0.01/%.2f, dsn=2.0.0, status=sent "
                      "(250 2.0.0 <%s> %s Saved)" % (qid, rcpt, HOST, d + 0.03, 0.02, d, rcpt,
                                                     "%016x" % r.getrandbits(64)))
            self.flow_delivery("lmtp", "sent", "2")
            self.push(t + 0.03 + d, "dovecot",
                      "lmtp(%s)<%d><%s>: msgid=<%s>: saved mail to INBOX" %
                      (rcpt, self.pool["lmtp"][0] + 7000, "%016x" % r.getrandbits(64), msgid))
        else:
            self.push(t + 0.03 + d, "postfix/local[%d]" % self.pool["local"][0],
                      "%s: to=<%s>, relay=local, delay=%.2f, delays=%.2f/0.01/0/%.2f, "
                      "dsn=2.0.0, status=sent (delivered to mailbox)" % (qid, rcpt, d + 0.03,
                                                                       0.02, d))
            self.flow_delivery("local", "sent", "2")
        self.push(t + 0.04 + d, "postfix/qmgr[%d]" % self.pid_qmgr, "%s: removed" % qid)

    def deliver_remote(self, t, qid, sender, nrcpt, size, msgid):
        r = self.r
        self.push(t, "postfix/cleanup[%d]" % r.choice(self.pool["cleanup"]),
                  "%s: message-id=<%s>" % (qid, msgid))
        self.flow_cleanup_and_qmgr()
        self.push(t + 0.01, "opendkim[%d]" % self.pool["opendkim"][0],
                  "%s: DKIM-Signature field added (s=mail, d=%s)" % (qid, sender.split("@")[1]))
        self.push(t + 0.02, "postfix/qmgr[%d]" % self.pid_qmgr,
                  "%s: from=<%s>, size=%d, nrcpt=%d (queue active)" % (qid, sender, size, nrcpt))
        tt = t + 0.03
        last_pid = None
        for _ in range(nrcpt):
            mxh, mxip, dom = r.choice(REMOTE_MX)
            pid = r.choice(self.pool["smtp"])
            if pid == last_pid:
                # Each recipient here is its own delivery attempt, so another
                # smtp process: one process's consecutive lines with equal
                # queue id, relay and delays are one attempt (Postfix logs a
                # line per recipient of an attempt).
                pool = self.pool["smtp"]
                pid = pool[(pool.index(pid) + 1) % len(pool)]
            last_pid = pid
            smtp = "postfix/smtp[%d]" % pid
            d = r.uniform(0.2, 2.5)
            if r.random() < 0.9:
                self.push(tt + d / 3, smtp,
                          "Verified TLS connection established to %s[%s]:25: %s" % (mxh, mxip,
                                                                                   TLS_IN12))
                self.push(tt + d, smtp,
                          "%s: to=<%s@%s>, relay=%s[%s]:25, delay=%.2f, delays=0.03/0.01/%.2f/%.2f, "
                          "dsn=2.0.0, status=sent (250 2.0.0 OK  %d %s - gsmtp)" %
                          (qid, r.choice(DICTIONARY), dom, mxh, mxip, d, d / 3, d * 2 / 3,
                           int(tt), "%08x" % r.getrandbits(32)))
                self.flow_tls("outbound", "Verified", "TLSv1.2",
                              cipher="ECDHE-RSA-AES256-GCM-SHA384")
                self.flow_delivery("smtp", "sent", "2")
            else:
                self.push(tt + d, smtp,
                          "%s: to=<%s@%s>, relay=none, delay=%.1f, delays=0.03/0.01/%.1f/0, "
                          "dsn=4.4.1, status=deferred (connect to %s[%s]:25: Connection timed out)"
                          % (qid, r.choice(DICTIONARY), dom, d + 30, d + 30, mxh, mxip))
                self.flow_delivery("smtp", "deferred", "4")
                self.m.inc("postfix_smtp_deferred_messages_total", service="smtp")
            tt += 0.001
        self.push(tt + 2.6, "postfix/qmgr[%d]" % self.pid_qmgr, "%s: removed" % qid)

    # ---- the model of the mail-flow families (no random draws here) -------
    def flow_cleanup_and_qmgr(self):
        """A message through cleanup and qmgr: message-id, queue active, removed."""
        self.m.inc("postfix_cleanup_messages_processed_total", service="smtp")
        self.m.inc("postfix_qmgr_messages_removed_total", service="smtp")
        self.m.inc("postfix_qmgr_messages_inserted_receipients_count", service="smtp")
        self.m.inc("postfix_qmgr_messages_inserted_size_bytes_count", service="smtp")

    def flow_delivery(self, transport, status, dsn_class):
        """One delivery record with delays= (its delivery_delay_seconds attempt is counted in
        log order, by delivery_attempt())."""
        self.m.inc("postfix_delivery_status_total", service="smtp", transport=transport,
                   status=status, dsn_class=dsn_class)
        if transport in ("smtp", "lmtp"):
            for stage in STAGES:
                self.m.inc("postfix_%s_delivery_delay_seconds_count" % transport,
                           service="smtp", stage=stage)

    def delivery_attempt(self, tag, msg):
        """Called for each line written that holds "delays=", in log order. The exporter
        counts a delivery record that repeats the previous record of its process in queue
        id, relay= and delays= as the same attempt (the next recipient of one connection)."""
        transport = tag[8:tag.index("[")]
        if transport not in ("smtp", "lmtp", "local"):
            return
        qid = msg[:msg.index(":")]
        relay = msg[msg.index(", relay=") + 8:]
        relay = relay[:relay.index(", ")]
        delays = msg[msg.index(", delays=") + 9:]
        delays = delays[:delays.index(", ")]
        key = (qid, relay, delays)
        if self.last_attempt.get(tag) == key:
            return
        self.last_attempt[tag] = key
        for stage in STAGES:
            self.m.inc("postfix_delivery_delay_seconds_count", service="smtp",
                       transport=transport, stage=stage)

    def flow_tls(self, direction, trust, protocol, cipher, service="smtp", bits="256"):
        self.m.inc("postfix_tls_connections_total", service=service, direction=direction,
                   trust=trust, protocol=protocol)
        family = "postfix_smtp_tls_connections_total" if direction == "outbound" else \
            "postfix_smtpd_tls_connections_total"
        self.m.inc(family, service=service, trust=trust, protocol=protocol, cipher=cipher,
                   secret_bits=bits, algorithm_bits=bits)

    def dovecot_imap(self, t):
        r = self.r
        user = r.choice(self.legit_users)
        host, ip = r.choice(self.legit_clients)
        sess = "%016x" % r.getrandbits(64)
        mpid = r.randrange(10000, 60000)
        if r.random() < 0.85:
            self.push(t, "dovecot", "imap-login: Login: user=<%s>, method=PLAIN, rip=%s, lip=%s, "
                      "mpid=%d, TLS, session=<%s>" % (user, ip, MX_IP, mpid, sess))
            self.push(t + r.uniform(1, 120), "dovecot",
                      "imap(%s)<%d><%s>: Logged out in=%d out=%d deleted=0 expunged=0 trashed=0 "
                      "hdr_count=0 hdr_bytes=0 body_count=0 body_bytes=0" %
                      (user, mpid, sess, r.randrange(50, 900), r.randrange(400, 90000)))
        else:
            # IMAP guessing from its own range (198.18.0.0/15, for benchmarks),
            # so that no Dovecot verdict here can be read as the reason of an
            # SMTP AUTH failure from the same address (ReasonRefiner).
            ip = "198.18.%s" % r.choice(self.attackers).split(".", 2)[2]
            self.push(t, "dovecot", "auth: passwd-file(%s,%s,<%s>): unknown user" %
                      (r.choice(DICTIONARY), ip, sess))
            self.push(t + 2, "dovecot", "imap-login: Disconnected: Connection closed (auth failed, "
                      "1 attempts in 2 secs): user=<%s>, method=PLAIN, rip=%s, lip=%s, TLS, "
                      "session=<%s>" % (r.choice(DICTIONARY), ip, MX_IP, sess))

    def postscreen_drop(self, t):
        r = self.r
        ip = r.choice(self.attackers)
        port = r.randrange(1024, 65535)
        ps = "postfix/postscreen[%d]" % self.pid_postscreen
        self.push(t, ps, "CONNECT from [%s]:%d to [%s]:25" % (ip, port, MX_IP))
        x = r.random()
        self.m.inc("postfix_postscreen_actions_total", service="smtp",
                   action="pregreet" if x < 0.4 else "dnsbl_rank" if x < 0.8 else "hangup")
        if x < 0.4:
            self.push(t + 0.07, ps, "PREGREET 11 after 0.07 from [%s]:%d: EHLO %s\\r\\n" %
                      (ip, port, r.choice(HELOS)))
            self.push(t + 6.1, ps, "DISCONNECT [%s]:%d" % (ip, port))
        elif x < 0.8:
            self.push(t + 0.2, "postfix/dnsblog[%d]" % r.choice(self.pool["dnsblog"]),
                      "addr %s listed by domain zen.spamhaus.org as 127.0.0.%d" %
                      (ip, r.choice((2, 3, 4, 10, 11))))
            self.push(t + 0.3, ps, "DNSBL rank %d for [%s]:%d" % (r.randrange(2, 8), ip, port))
            self.push(t + 1.3, ps, "NOQUEUE: reject: RCPT from [%s]:%d: 550 5.7.1 Service "
                      "unavailable; client [%s] blocked using zen.spamhaus.org; from=<%s@%s>, "
                      "to=<%s@%s>, proto=ESMTP, helo=<%s>" %
                      (ip, port, ip, r.choice(DICTIONARY), "example.biz", r.choice(DICTIONARY),
                       LOCAL_DOMAINS[0], r.choice(HELOS)))
            self.push(t + 1.5, ps, "DISCONNECT [%s]:%d" % (ip, port))
        else:
            self.push(t + 2.1, ps, "HANGUP after 2.1 from [%s]:%d in tests before SMTP handshake"
                      % (ip, port))
            self.push(t + 2.1, ps, "DISCONNECT [%s]:%d" % (ip, port))

    def anvil(self, t):
        r = self.r
        a = "postfix/anvil[%d]" % self.pid_anvil
        ip = r.choice(self.attackers)
        stamp = self.clock.bsd(t - r.randrange(1, 600))
        svc = r.choice(("smtp", "submission", "smtps"))
        count = r.randrange(1, 12)
        self.push(t, a, "statistics: max connection rate %d/60s for (%s:%s) at %s" %
                  (r.randrange(1, 30), svc, ip, stamp))
        self.push(t, a, "statistics: max connection count %d for (%s:%s) at %s" %
                  (count, svc, ip, stamp))
        self.push(t, a, "statistics: max cache size %d at %s" % (r.randrange(1, 200), stamp))
        self.m.anvil_max = count

    def process_limit(self, t):
        m = "postfix/master[%d]" % self.pid_master
        self.push(t, m, 'warning: service "submission" (587) has reached its process limit "100": '
                  "new clients may experience noticeable delays")
        self.push(t, m, "warning: to avoid this condition, increase the process count in "
                  "master.cf or reduce the service time per client")
        self.push(t, m, "warning: see http://www.postfix.org/STRESS_README.html for examples of "
                  "stress-adapting configuration settings")
        self.m.inc("postfix_master_process_limit_reached_total", service="submission")
