#!/usr/bin/env python3
"""Writes a realistic, deterministic Postfix mail log and the exact metric values it implies.

The log is what one host running an MX (port 25 behind postscreen) and a
submission server (587 with STARTTLS, 465 implicit TLS) writes to
/var/log/mail.log: mostly delivery noise (postscreen, qmgr, cleanup, smtp,
lmtp, local, anvil, opendkim) and Dovecot lines, with authenticated
submissions, brute-force SASL failures of every reason, Relay access denied
probes, other rejects, port scans, lost connections, killed smtpd processes,
smtpd processes serving several sessions in turn (pid reuse) and many
sessions open at once on all three services.

The log is cut into segments of --segment-lines lines. Each segment has a
Postfix version (<= 3.8 failure lines, or >= 3.9 with ", sasl_username=" and
3.10 "NOQUEUE: lost connection" lines) and a SASL backend (Cyrus/saslauthd
with its companion lines, or Dovecot), so every combination appears. With
--timestamps mixed the segments alternate between BSD and RFC 3339 stamps.

The expected values are derived from the generator's own model of what it
wrote (not by running any exporter). For postfix_sasl_exporter they cover
every series of the checked families (a series not listed must be 0 or
absent); for kumina's postfix_exporter and mtail's postfix.mtail they are
the few counters those tools can get right on this log (kumina reads only
"postfix/smtpd[...]" lines; mtail's example parses only BSD timestamps).

Usage: gen_corpus.py --seed 1 --lines 2000000 --out corpus.log --expected corpus.json
       gen_corpus.py --profile distinct-failures --lines 3000000 ...   (adversarial)
       gen_corpus.py --profile open-sessions --lines 100000 ...        (adversarial)

Python 3 standard library only. The same arguments always give the same bytes.
Exporter contract: BSD stamps are local time; run the exporter with TZ=UTC and
--postfix.syslog_year=<"syslog_year" from the JSON>.
"""

import argparse
import bisect
import collections
import heapq
import json
import random
import sys
import time

HOST = "mx1"
MX_IP = "192.0.2.10"
START_YEAR = 2025
# Dec 31 2025 18:00:00 UTC: the log crosses New Year (BSD year roll-over).
START_EPOCH = 1767204000
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# The exporter's label vocabulary (README: `method`, `reason`).
METHODS = {"PLAIN", "LOGIN", "CRAM-MD5", "DIGEST-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256", "NTLM",
           "GSSAPI", "XOAUTH2", "OAUTHBEARER", "EXTERNAL", "ANONYMOUS"}

SMTPD_PATH = "/usr/lib/postfix/sbin/smtpd"
TLS_IN = ("TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 "
          "server-signature RSA-PSS (2048 bits) server-digest SHA256")
TLS_IN12 = "TLSv1.2 with cipher ECDHE-RSA-AES256-GCM-SHA384 (256/256 bits)"

LOCAL_DOMAINS = ("example.org", "example.net", "mail.example.com")
REMOTE_MX = (
    ("gmail-smtp-in.l.google.com", "142.250.102.27", "gmail.com"),
    ("mx1.mail.ovh.net", "188.165.36.237", "ovh.net"),
    ("mx.gmx.net", "212.227.17.5", "gmx.net"),
    ("mta7.am0.yahoodns.net", "67.195.204.72", "yahoo.com"),
    ("example-com.mail.protection.outlook.com", "52.101.68.9", "outlook.com"),
)
SENDER_HOSTS = ("mail-wr1-f41.google.com", "mail-ej1-f54.google.com", "mo4-p00-ob.smtp.rzone.de",
                "mout.gmx.net", "mail.python.org", "lists.debian.org", "bounce.github.com",
                "a27-33.smtp-out.amazonses.com", "mail-vi1eur04on2107.outbound.protection.outlook.com",
                "smtp.mailfrom.example.net", "mx.newsletter.example")
HELOS = ("User", "ylmf-pc", "localhost", "WIN-3MDJ8F0KQ2L", "[127.0.0.1]", "mail.example.biz",
         "EHLO", "test")
DICTIONARY = ("admin", "test", "info", "support", "office", "sales", "postmaster", "webmaster",
              "contact", "root", "user", "marketing", "backup", "noreply", "hr", "service",
              "ftp", "mail", "administrator", "guest")


class Model:
    """The exporter-visible consequences of every line the generator writes."""

    def __init__(self):
        self.c = collections.Counter()  # (family, labels tuple) -> value
        self.lines = 0
        self.anvil_max = None
        self.kumina = collections.Counter()
        self.mtail = collections.Counter()
        self.mtail_bsd_only = True
        self.stats = collections.Counter()  # informative breakdown
        self.spans = []  # (service, open time, close time) of every smtpd session

    def inc(self, family, n=1, **labels):
        self.c[(family, tuple(sorted(labels.items())))] += n


class Clock:
    """Formats log times; keeps a per-second cache (most lines share a second)."""

    def __init__(self):
        self._bsd = {}
        self._rfc = {}

    def bsd(self, t):
        s = int(t)
        v = self._bsd.get(s)
        if v is None:
            tm = time.gmtime(s)
            v = "%s %2d %02d:%02d:%02d" % (MONTHS[tm.tm_mon - 1], tm.tm_mday, tm.tm_hour,
                                           tm.tm_min, tm.tm_sec)
            if len(self._bsd) > 4096:
                self._bsd.clear()
            self._bsd[s] = v
        return v

    def rfc(self, t):
        s = int(t)
        v = self._rfc.get(s)
        if v is None:
            tm = time.gmtime(s)
            v = "%04d-%02d-%02dT%02d:%02d:%02d" % tm[:6]
            if len(self._rfc) > 4096:
                self._rfc.clear()
            self._rfc[s] = v
        return "%s.%06d+00:00" % (v, int((t - s) * 1e6))


class Gen:
    def __init__(self, args):
        self.a = args
        self.r = random.Random(args.seed)
        self.m = Model()
        self.clock = Clock()
        self.heap = []
        self.seq = 0
        self.last_t = 0.0
        self.next_pid = 2000
        # Long-lived daemons.
        self.pid_master = 812
        self.pid_qmgr = 830
        self.pid_anvil = 1410
        self.pid_postscreen = 1502
        self.pool = {d: [self.alloc_pid() for _ in range(n)]
                     for d, n in (("cleanup", 4), ("lmtp", 3), ("smtp", 6), ("local", 1),
                                  ("dnsblog", 2), ("bounce", 1), ("opendkim", 1))}
        # Idle smtpd processes per service: heap of (free_at, pid).
        self.idle_smtpd = collections.defaultdict(list)
        self.next_anvil = START_EPOCH + 600
        self.qid_counter = self.r.randrange(1 << 36)
        self.legit_users = ["%s@%s" % (n, self.r.choice(LOCAL_DOMAINS)) for n in
                            ("alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi",
                             "ivan", "judy", "mallory", "niaj", "olivia", "peggy", "rupert",
                             "sybil", "trent", "victor", "walter", "relay")]
        self.legit_clients = [("%s.dyn.example.net" % self.ipname(ip), ip) for ip in
                              (self.rand_ip() for _ in range(300))]
        self.attackers = [self.rand_ip() for _ in range(4000)]
        self.segment = -1
        self.seg_form39 = False
        self.seg_cyrus = True
        self.seg_bsd = True

    # ---- helpers ---------------------------------------------------------
    def alloc_pid(self):
        p = self.next_pid
        self.next_pid += 1
        if self.next_pid >= 4194304:  # pid_max on 64-bit Linux
            self.next_pid = 2000
        return p

    def rand_ip(self):
        r = self.r
        return "%d.%d.%d.%d" % (r.choice((45, 62, 77, 80, 91, 103, 141, 176, 185, 193, 212)),
                                r.randrange(256), r.randrange(256), r.randrange(1, 255))

    @staticmethod
    def ipname(ip):
        return ip.replace(".", "-")

    def qid(self):
        self.qid_counter = (self.qid_counter * 6364136223846793005 + 1442695040888963407) % (1 << 64)
        return "%010X" % (self.qid_counter >> 24 & 0xFFFFFFFFFF)

    def smtpd_pid(self, service, t):
        idle = self.idle_smtpd[service]
        if idle and idle[0][0] <= t and self.r.random() < 0.85:
            return heapq.heappop(idle)[1]
        return self.alloc_pid()

    def release_smtpd(self, service, pid, t):
        if len(self.idle_smtpd[service]) < 64:
            heapq.heappush(self.idle_smtpd[service], (t + 0.002, pid))

    def push(self, t, tag, msg):
        self.seq += 1
        self.last_t = t
        heapq.heappush(self.heap, (t, self.seq, tag, msg))

    @staticmethod
    def stats_str(cmds):
        parts = []
        ok_sum = tot_sum = 0
        for name, ok, tot in cmds:
            if tot == 0:
                continue
            ok_sum += ok
            tot_sum += tot
            parts.append("%s=%d" % (name, ok) if ok == tot else "%s=%d/%d" % (name, ok, tot))
        if tot_sum == 0:
            parts.append("commands=0/0")
        elif ok_sum == tot_sum:
            parts.append("commands=%d" % ok_sum)
        else:
            parts.append("commands=%d/%d" % (ok_sum, tot_sum))
        return " ".join(parts)

    # ---- smtpd session bookkeeping (the model) ---------------------------
    def syslog_name(self, service):
        return "postfix" if service == "smtp" else "postfix/" + service

    def connect(self, s, t, service, client):
        pid = self.smtpd_pid(service, t)
        tag = "%s/smtpd[%d]" % (self.syslog_name(service), pid)
        self.push(t, tag, "connect from " + client)
        self.m.inc("postfix_smtpd_connects_total", service=service)
        self.m.mtail["postfix_smtpd_connects_total"] += 1
        if service == "smtp":
            self.m.kumina["postfix_smtpd_connects_total"] += 1
        s.update(pid=pid, tag=tag, service=service, client=client, logged=0, after_auth=False,
                 t0=t)
        return tag

    def session_end(self, s, t):
        self.m.spans.append((s["service"], s["t0"], t))

    def disconnect(self, s, t, cmds):
        self.push(t, s["tag"], "disconnect from %s %s" % (s["client"], self.stats_str(cmds)))
        service = s["service"]
        self.m.inc("postfix_smtpd_disconnects_total", service=service)
        self.m.mtail["postfix_smtpd_disconnects_total"] += 1
        if service == "smtp":
            self.m.kumina["postfix_smtpd_disconnects_total"] += 1
        for name, ok, tot in cmds:
            if name == "auth":
                if ok:
                    self.m.inc("postfix_smtpd_sasl_authentication_successes_total", ok,
                               service=service)
                unlogged = (tot - ok) - s["logged"]
                if unlogged > 0:
                    reason = "aborted" if s["after_auth"] else "auth_unavailable"
                    self.m.inc("postfix_smtpd_sasl_authentication_failures_total", unlogged,
                               service=service, method="unknown", reason=reason)
        self.release_smtpd(service, s["pid"], t)
        self.session_end(s, t)

    def abort(self, s, t, kind, stage):
        """'lost connection|timeout|too many errors after STAGE from CLIENT'."""
        prefix = "NOQUEUE: " if self.seg_form39 else ""
        self.push(t, s["tag"], "%s%s after %s from %s" % (prefix, kind, stage, s["client"]))
        if kind != "too many errors" and stage == "AUTH":
            s["after_auth"] = True
        if kind == "lost connection":
            self.m.inc("postfix_smtpd_connections_lost_total", service=s["service"],
                       after_stage=stage)

    def client_line(self, s, t, qid, method=None, user=None):
        msg = "%s: client=%s" % (qid, s["client"])
        if method:
            msg += ", sasl_method=%s, sasl_username=%s" % (method, user)
        self.push(t, s["tag"], msg)
        label = method.upper() if method else "none"
        if method and label not in METHODS:
            label = "other"
        self.m.inc("postfix_smtpd_messages_processed_total", service=s["service"],
                   sasl_method=label)

    def reject(self, s, t, cmd, code, text, tail, relay=False):
        self.push(t, s["tag"], "NOQUEUE: reject: %s from %s: %d %s; %s" %
                  (cmd, s["client"], code, text, tail))
        self.m.inc("postfix_smtpd_messages_rejected_total", service=s["service"], code=str(code))
        if relay:
            self.m.inc("postfix_smtpd_relay_denied_total", service=s["service"])

    def sasl_failed(self, s, t, method, reason_text, reason, user, companion=None):
        """One failed AUTH attempt; `reason` is the label it must count under."""
        if companion is not None:
            text, backend_error = companion
            self.push(t, s["tag"], "warning: " + text)
            if backend_error:
                self.m.inc("postfix_smtpd_sasl_backend_errors_total", service=s["service"])
            t += 0.0004
        if self.seg_form39:
            msg = "warning: %s: SASL %s authentication failed: %s, sasl_username=%s" % (
                s["client"], method, reason_text or "(reason unavailable)", user)
        else:
            # <= 3.8 prints "failed: " and the (possibly empty) reason.
            msg = "warning: %s: SASL %s authentication failed: %s" % (s["client"], method,
                                                                      reason_text)
        self.push(t, s["tag"], msg)
        label = method.upper()
        if label not in METHODS:
            label = "other"
        self.m.inc("postfix_smtpd_sasl_authentication_failures_total", service=s["service"],
                   method=label, reason=reason)
        self.m.mtail["postfix_smtpd_sasl_authentication_failures_total"] += 1
        self.m.stats["sasl_failed_lines"] += 1
        s["logged"] += 1

    def sasl_aborted(self, s, t, method):
        self.push(t, s["tag"], "warning: %s: SASL %s authentication aborted" % (s["client"], method))
        self.m.inc("postfix_smtpd_sasl_authentication_failures_total", service=s["service"],
                   method=method.upper(), reason="aborted")
        s["logged"] += 1

    def killed(self, s, t):
        self.push(t, "postfix/master[%d]" % self.pid_master,
                  "warning: process %s pid %d killed by signal 9" % (SMTPD_PATH, s["pid"]))
        self.session_end(s, t)

    # ---- noise -------------------------------------------------------------
    def tls_in(self, s, t):
        trust = "Anonymous" if self.r.random() < 0.9 else "Untrusted"
        proto = TLS_IN if self.r.random() < 0.8 else TLS_IN12
        self.push(t, s["tag"], "%s TLS connection established from %s: %s" % (trust, s["client"],
                                                                              proto))

    def postscreen_pass(self, t, ip, port):
        ps = "postfix/postscreen[%d]" % self.pid_postscreen
        self.push(t, ps, "CONNECT from [%s]:%d to [%s]:25" % (ip, port, MX_IP))
        if self.r.random() < 0.3:
            self.push(t + 0.001, ps, "PASS NEW [%s]:%d" % (ip, port))
        else:
            self.push(t + 0.001, ps, "PASS OLD [%s]:%d" % (ip, port))

    def deliver_local(self, t, qid, sender, rcpt, size, msgid):
        r = self.r
        self.push(t, "postfix/cleanup[%d]" % r.choice(self.pool["cleanup"]),
                  "%s: message-id=<%s>" % (qid, msgid))
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
            self.push(t + 0.03 + d, "dovecot",
                      "lmtp(%s)<%d><%s>: msgid=<%s>: saved mail to INBOX" %
                      (rcpt, self.pool["lmtp"][0] + 7000, "%016x" % r.getrandbits(64), msgid))
        else:
            self.push(t + 0.03 + d, "postfix/local[%d]" % self.pool["local"][0],
                      "%s: to=<%s>, relay=local, delay=%.2f, delays=%.2f/0.01/0/%.2f, "
                      "dsn=2.0.0, status=sent (delivered to mailbox)" % (qid, rcpt, d + 0.03,
                                                                       0.02, d))
        self.push(t + 0.04 + d, "postfix/qmgr[%d]" % self.pid_qmgr, "%s: removed" % qid)

    def deliver_remote(self, t, qid, sender, nrcpt, size, msgid):
        r = self.r
        self.push(t, "postfix/cleanup[%d]" % r.choice(self.pool["cleanup"]),
                  "%s: message-id=<%s>" % (qid, msgid))
        self.push(t + 0.01, "opendkim[%d]" % self.pool["opendkim"][0],
                  "%s: DKIM-Signature field added (s=mail, d=%s)" % (qid, sender.split("@")[1]))
        self.push(t + 0.02, "postfix/qmgr[%d]" % self.pid_qmgr,
                  "%s: from=<%s>, size=%d, nrcpt=%d (queue active)" % (qid, sender, size, nrcpt))
        tt = t + 0.03
        for _ in range(nrcpt):
            mxh, mxip, dom = r.choice(REMOTE_MX)
            smtp = "postfix/smtp[%d]" % r.choice(self.pool["smtp"])
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
            else:
                self.push(tt + d, smtp,
                          "%s: to=<%s@%s>, relay=none, delay=%.1f, delays=0.03/0.01/%.1f/0, "
                          "dsn=4.4.1, status=deferred (connect to %s[%s]:25: Connection timed out)"
                          % (qid, r.choice(DICTIONARY), dom, d + 30, d + 30, mxh, mxip))
            tt += 0.001
        self.push(tt + 2.6, "postfix/qmgr[%d]" % self.pid_qmgr, "%s: removed" % qid)

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
            ip = r.choice(self.attackers)
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
        n = r.randrange(1, 4)
        tt = t + 0.5
        sender = "%s@%s" % (r.choice(DICTIONARY), "example.biz")
        for _ in range(n):
            rcpt = "%s@%s" % (r.choice(DICTIONARY), r.choice(LOCAL_DOMAINS))
            x = r.random()
            tail = "from=<%s> to=<%s> proto=ESMTP helo=<%s>" % (sender, rcpt, helo)
            if x < 0.45:
                self.reject(s, tt, "RCPT", 550, "5.1.1 <%s>: Recipient address rejected: User "
                            "unknown in local recipient table" % rcpt, tail)
            elif x < 0.7:
                self.reject(s, tt, "RCPT", 450, "4.7.1 Client host rejected: cannot find your "
                            "hostname, [%s]" % ip, tail)
            elif x < 0.9:
                self.reject(s, tt, "RCPT", 554, "5.7.1 Service unavailable; Client host [%s] "
                            "blocked using bl.spamcop.net; Blocked - see "
                            "https://www.spamcop.net/bl.shtml?%s" % (ip, ip), tail)
            else:
                self.reject(s, tt, "RCPT", 504, "5.5.2 <%s>: Helo command rejected: need fully-"
                            "qualified hostname" % helo, tail)
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
                        relay=True)
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

    # ---- segments and the main loop ----------------------------------------
    def set_segment(self, k):
        self.segment = k
        self.seg_form39 = k % 2 == 1
        self.seg_cyrus = k % 4 in (0, 3)
        ts = self.a.timestamps
        self.seg_bsd = ts == "bsd" or (ts == "mixed" and k % 2 == 0)
        if not self.seg_bsd:
            self.m.mtail_bsd_only = False

    def emit_until(self, out, t_limit, written):
        heap = self.heap
        lines = []
        bsd = self.seg_bsd
        clock = self.clock
        while heap and heap[0][0] < t_limit:
            t, _, tag, msg = heapq.heappop(heap)
            stamp = clock.bsd(t) if bsd else clock.rfc(t)
            lines.append("%s %s %s: %s\n" % (stamp, HOST, tag, msg))
        if lines:
            out.write("".join(lines))
        return written + len(lines)

    def run_mix(self, out):
        r = self.r
        n_target = self.a.lines
        seg = self.a.segment_lines
        # Session kinds and weights. Line yield per kind is ~3..16.
        kinds = ((self.mx_accept, 24), (self.mx_reject, 10), (self.relay_probe, 6),
                 (self.scan, 10), (self.submission_ok, 12), (self.brute_force, 22),
                 (self.backend_down, 0.15), (self.burst, 0.6), (self.dovecot_imap, 30),
                 (self.postscreen_drop, 14))
        funcs = [k[0] for k in kinds]
        cum = []
        acc = 0.0
        for _, w in kinds:
            acc += w
            cum.append(acc)
        t = float(START_EPOCH)
        written = 0
        self.set_segment(0)
        margin = min(4000, max(200, n_target // 50))
        scheduled = 0
        next_limit_check = START_EPOCH + 3600 * 5
        while written + len(self.heap) < n_target - margin:
            t += r.expovariate(6.0)  # ~6 starts per second of log time
            written = self.emit_until(out, t, written)
            k = written // seg
            if k != self.segment:
                self.set_segment(k)
            if t >= self.next_anvil:
                self.anvil(t)
                self.next_anvil += 600
            if t >= next_limit_check:
                self.process_limit(t)
                next_limit_check += 3600 * 5
            funcs[bisect.bisect(cum, r.random() * acc)](t)
            scheduled += 1
        written = self.emit_until(out, float("inf"), written)
        # Pad to exactly N - 2 lines with Dovecot noise, then one MX session whose
        # disconnect is the last line (the Go exporter's progress marker).
        t = t + 400
        while written < n_target - 2:
            self.push(t, "dovecot", "imap(%s)<%d><%016x>: Logged out in=%d out=%d deleted=0 "
                      "expunged=0 trashed=0 hdr_count=0 hdr_bytes=0 body_count=0 body_bytes=0" %
                      (r.choice(self.legit_users), r.randrange(10000, 60000), r.getrandbits(64),
                       r.randrange(50, 900), r.randrange(400, 90000)))
            t += 0.05
            written = self.emit_until(out, float("inf"), written)
        s = {}
        self.connect(s, t + 1, "smtp", "unknown[%s]" % r.choice(self.attackers))
        self.disconnect(s, t + 1.5, [("ehlo", 1, 1), ("quit", 1, 1)])
        written = self.emit_until(out, float("inf"), written)
        self.m.stats["sessions_started"] = scheduled
        return written

    def run_distinct_failures(self, out):
        """Adversarial: every failure line has a new client address and user name."""
        n = self.a.lines // 3
        t = float(START_EPOCH)
        written = 0
        self.set_segment(1)  # >= 3.9 form: the username is on the failed line
        for i in range(n):
            ip = "%d.%d.%d.%d" % (10 + (i >> 24 & 0x3F), i >> 16 & 0xFF, i >> 8 & 0xFF, i & 0xFF)
            s = {}
            self.connect(s, t, "submission", "unknown[%s]" % ip)
            self.sasl_failed(s, t + 0.01, "LOGIN", "", "unspecified",
                             "user%07d@victim%d.example" % (i, i % 9973))
            self.disconnect(s, t + 0.02, [("ehlo", 1, 1), ("auth", 0, 1), ("quit", 1, 1)])
            t += 0.003
            if len(self.heap) > 3000:
                written = self.emit_until(out, t - 0.05, written)
        return self.emit_until(out, float("inf"), written)

    def run_open_sessions(self, out):
        """Adversarial: connects that never end (no disconnect, no master line)."""
        n = self.a.lines
        t = float(START_EPOCH)
        written = 0
        self.set_segment(0)
        for i in range(n):
            service = ("smtp", "submission", "smtps")[i % 3]
            pid = 100000 + i  # distinct processes, all alive
            tag = "%s/smtpd[%d]" % (self.syslog_name(service), pid)
            ip = "%d.%d.%d.%d" % (10 + (i >> 24 & 0x3F), i >> 16 & 0xFF, i >> 8 & 0xFF, i & 0xFF)
            self.push(t, tag, "connect from unknown[%s]" % ip)
            self.m.inc("postfix_smtpd_connects_total", service=service)
            t += 0.01  # 100k lines span ~17 min of log time: under the 1 h idle timeout
            if len(self.heap) > 3000:
                written = self.emit_until(out, float("inf"), written)
        self.m.stats["open_sessions"] = n
        return self.emit_until(out, float("inf"), written)


def s_last(gen, t):
    """Just after the last line pushed so far (the end of the session being built)."""
    return max(t, gen.last_t) + 0.001


def expected_json(gen, args, written):
    m = gen.m
    series = []
    for (family, labels), v in sorted(m.c.items()):
        series.append({"name": family, "labels": dict(labels), "value": v})
    series.append({"name": "postfix_exporter_log_lines_total", "labels": {}, "value": written})
    series.append({"name": "postfix_exporter_log_lines_malformed_total", "labels": {}, "value": 0})
    if args.profile == "mix":
        # Every session of the mix ends (disconnect, fatal or master's kill line).
        for svc in ("smtp", "submission", "smtps"):
            series.append({"name": "postfix_smtpd_sessions", "labels": {"service": svc},
                           "value": 0})
        if m.anvil_max is not None:
            series.append({"name": "postfix_anvil_connection_count_max", "labels": {},
                           "value": m.anvil_max})
    # Families whose every series is listed above (anything else in them must be 0).
    complete = [
        "postfix_smtpd_connects_total", "postfix_smtpd_disconnects_total",
        "postfix_smtpd_sasl_authentication_successes_total",
        "postfix_smtpd_sasl_authentication_failures_total",
        "postfix_smtpd_sasl_backend_errors_total", "postfix_smtpd_relay_denied_total",
        "postfix_smtpd_messages_rejected_total", "postfix_smtpd_messages_processed_total",
        "postfix_smtpd_connections_lost_total", "postfix_master_process_limit_reached_total",
        "postfix_exporter_smtpd_lines_unrecognized_total",
        "postfix_exporter_log_lines_total", "postfix_exporter_log_lines_malformed_total",
    ]
    if args.profile == "mix":
        complete.append("postfix_smtpd_sessions")
    # Most sessions open at once per service (informative; not checked).
    ev = collections.defaultdict(list)
    for svc, t0, t1 in m.spans:
        ev[svc].append((t0, 1))
        ev[svc].append((t1, -1))
    for svc, items in ev.items():
        items.sort()
        cur = peak = 0
        for _, d in items:
            cur += d
            peak = max(peak, cur)
        m.stats["max_concurrent_sessions_" + svc] = peak
    doc = {
        "generator": "bench/gen_corpus.py",
        "profile": args.profile,
        "seed": args.seed,
        "lines": written,
        "timestamps": args.timestamps,
        "segment_lines": args.segment_lines,
        "syslog_year": START_YEAR,
        "tz": "UTC",
        "ours": {"series": series, "complete_families": complete},
        "stats": dict(sorted(m.stats.items())),
    }
    if args.profile == "mix":
        doc["kumina"] = dict(m.kumina)
        if m.mtail_bsd_only:
            doc["mtail"] = dict(m.mtail)
    return doc


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--lines", type=int, default=100000, help="lines to write (exact for 'mix')")
    p.add_argument("--out", required=True, help="log file to write")
    p.add_argument("--expected", required=True, help="JSON file with the expected values")
    p.add_argument("--timestamps", choices=("bsd", "rfc3339", "mixed"), default="bsd")
    p.add_argument("--segment-lines", type=int, default=250000,
                   help="lines per segment (Postfix version, SASL backend, stamp style)")
    p.add_argument("--profile", choices=("mix", "distinct-failures", "open-sessions"),
                   default="mix")
    args = p.parse_args(argv)
    if args.lines < 100 and args.profile == "mix":
        p.error("--lines must be at least 100 for the mix profile")
    gen = Gen(args)
    with open(args.out, "w", encoding="utf-8", newline="\n", buffering=1 << 20) as out:
        if args.profile == "mix":
            written = gen.run_mix(out)
        elif args.profile == "distinct-failures":
            written = gen.run_distinct_failures(out)
        else:
            written = gen.run_open_sessions(out)
    doc = expected_json(gen, args, written)
    with open(args.expected, "w", encoding="utf-8") as f:
        # One series per line: readable, and diffs of two corpora stay small.
        series = doc["ours"].pop("series")
        text = json.dumps(doc, indent=1)
        rows = ",\n".join("   " + json.dumps(x) for x in series)
        text = text.replace('"ours": {', '"ours": {\n  "series": [\n%s\n  ],' % rows, 1)
        json.loads(text)  # must still be valid JSON
        f.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
