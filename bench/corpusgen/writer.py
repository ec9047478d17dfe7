"""The generator's core: the random source, pid pools, the heap of pending
lines (ordered by log time) and the primitives every scenario is built from
(connect, disconnect, abort, SASL failure, reject, TLS, postscreen pass), each
of which writes its lines and records in Model what the exporter must count.
Segments (Postfix version, SASL backend, stamp style) and emit_until(), which
writes the heap's lines up to a log time, are here too."""

import collections
import heapq
import random

from corpusgen.model import (HOST, MX_IP, START_EPOCH, METHODS, SMTPD_PATH, TLS_IN, TLS_IN12,
                             LOCAL_DOMAINS, Model, Clock)


class Writer:
    def __init__(self, args):
        self.a = args
        self.r = random.Random(args.seed)
        self.m = Model()
        self.clock = Clock()
        self.heap = []
        self.seq = 0
        self.last_t = 0.0
        self.last_attempt = {}  # delivery process tag -> (queue id, relay, delays)
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

    def reject(self, s, t, cmd, code, text, tail, category, relay=False):
        """`category`: the README's postfix_smtpd_rejects_total category of `text`."""
        self.push(t, s["tag"], "NOQUEUE: reject: %s from %s: %d %s; %s" %
                  (cmd, s["client"], code, text, tail))
        self.m.inc("postfix_smtpd_messages_rejected_total", service=s["service"], code=str(code))
        self.m.inc("postfix_smtpd_rejects_total", service=s["service"], stage=cmd,
                   category=category)
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
        self.flow_tls("inbound", trust, proto.split(" ", 1)[0],
                      cipher=proto.split(" with cipher ", 1)[1].split(" ", 1)[0],
                      service=s["service"])

    def postscreen_pass(self, t, ip, port):
        ps = "postfix/postscreen[%d]" % self.pid_postscreen
        self.push(t, ps, "CONNECT from [%s]:%d to [%s]:25" % (ip, port, MX_IP))
        if self.r.random() < 0.3:
            self.push(t + 0.001, ps, "PASS NEW [%s]:%d" % (ip, port))
            self.m.inc("postfix_postscreen_actions_total", service="smtp", action="pass_new")
        else:
            self.push(t + 0.001, ps, "PASS OLD [%s]:%d" % (ip, port))
            self.m.inc("postfix_postscreen_actions_total", service="smtp", action="pass_old")


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
            if "delays=" in msg:
                self.delivery_attempt(tag, msg)
            stamp = clock.bsd(t) if bsd else clock.rfc(t)
            lines.append("%s %s %s: %s\n" % (stamp, HOST, tag, msg))
        if lines:
            out.write("".join(lines))
        return written + len(lines)
