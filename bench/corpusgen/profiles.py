"""The three corpus profiles, each a main loop over the scenarios: 'mix' (the
realistic log, exactly --lines lines, its last line a port-25 disconnect),
'distinct-failures' (a session per failure, each with a new client address
and user name) and 'open-sessions' (connects that never end). A mixin of Gen."""

import bisect

from corpusgen.model import START_EPOCH


class ProfilesMixin:
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
