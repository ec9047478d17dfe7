"""Scenario log of the end-to-end test (e2e_prometheus.py).

LogWriter appends syslog lines with timestamps of now to the log the exporter
follows; each scenario function returns the lines of one episode (password
guessing, a saslauthd outage, relay probing, a submission burst, client
limits, relay host credentials rejected, mail flow, master and anvil) in real
Postfix line shapes (docs: shared postfix-log-lines.md). Which alerts each
episode must raise is e2e_prometheus.EXPECTED. Python 3 standard library only.
"""

import datetime
import os


class LogWriter:
    def __init__(self, path):
        self.path = path
        self.pid = 4000
        self.qid = 0x3A1F00

    def next_pid(self):
        self.pid += 1
        return self.pid

    def next_qid(self):
        self.qid += 0x11
        return "%X" % self.qid

    @staticmethod
    def stamp():
        return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="microseconds")

    def line(self, tag, pid, message):
        return f"{self.stamp()} mx {tag}[{pid}]: {message}\n"

    def append(self, lines):
        with open(self.path, "a", encoding="utf-8") as f:
            f.write("".join(lines))
            f.flush()
            os.fsync(f.fileno())


def good_session(w, tag, client, user):
    pid = w.next_pid()
    qid = w.next_qid()
    return [
        w.line(tag, pid, f"connect from {client}"),
        w.line(tag, pid, f"{qid}: client={client}, sasl_method=PLAIN, sasl_username={user}"),
        w.line(tag, pid, f"disconnect from {client} ehlo=1 auth=1 mail=1 rcpt=1 data=1 quit=1 commands=6"),
    ]


def plain_mx_session(w, client):
    pid = w.next_pid()
    qid = w.next_qid()
    tag = "postfix/smtpd"
    return [
        w.line(tag, pid, f"connect from {client}"),
        w.line(tag, pid, f"{qid}: client={client}"),
        w.line(tag, pid, f"disconnect from {client} ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5"),
    ]


def baseline(w):
    lines = []
    for i in range(3):
        lines += good_session(w, "postfix/submission/smtpd", f"mail.example.net[198.51.100.{20 + i}]", f"user{i}")
        lines += good_session(w, "postfix/smtps/smtpd", f"unknown[198.51.100.{30 + i}]", f"user{i}")
        lines += plain_mx_session(w, f"mx.example.com[192.0.2.{40 + i}]")
    return lines


def brute_force(w, n_sessions):
    """Password guessing on submission: two failed AUTH per session, in the
    <= 3.8 form (stale LOGIN challenge) and the >= 3.9 form."""
    tag = "postfix/submission/smtpd"
    lines = []
    for i in range(n_sessions):
        pid = w.next_pid()
        client = f"unknown[203.0.113.{(i % 50) + 1}]"
        lines.append(w.line(tag, pid, f"connect from {client}"))
        lines.append(w.line(tag, pid, f"warning: {client}: SASL LOGIN authentication failed: UGFzc3dvcmQ6"))
        lines.append(w.line(tag, pid, f"warning: {client}: SASL PLAIN authentication failed: "
                                      f"(reason unavailable), sasl_username=admin{i}"))
        if i % 5 == 0:
            lines.append(w.line(tag, pid, f"lost connection after AUTH from {client}"))
            lines.append(w.line(tag, pid, f"disconnect from {client} ehlo=1 auth=0/2 commands=1/3"))
        else:
            lines.append(w.line(tag, pid, f"disconnect from {client} ehlo=1 auth=0/2 quit=1 commands=2/4"))
    return lines


def backend_outage(w, n_attempts):
    """saslauthd is down: Cyrus' companion warning, then the failure."""
    tag = "postfix/smtps/smtpd"
    lines = []
    for i in range(n_attempts):
        pid = w.next_pid()
        client = f"unknown[198.51.100.{7 + i % 3}]"
        lines.append(w.line(tag, pid, f"connect from {client}"))
        lines.append(w.line(tag, pid, "warning: SASL authentication failure: cannot connect to saslauthd server: "
                                      "Connection refused"))
        lines.append(w.line(tag, pid, f"warning: {client}: SASL LOGIN authentication failed: generic failure"))
        lines.append(w.line(tag, pid, f"disconnect from {client} ehlo=1 auth=0/1 quit=1 commands=2/3"))
    return lines


def relay_probing(w, n_sessions):
    tag = "postfix/smtpd"
    lines = []
    for i in range(n_sessions):
        pid = w.next_pid()
        client = f"unknown[192.0.2.{(i % 20) + 100}]"
        lines.append(w.line(tag, pid, f"connect from {client}"))
        lines.append(w.line(tag, pid, f"NOQUEUE: reject: RCPT from {client}: 554 5.7.1 <victim{i}@example.org>: "
                                      f"Relay access denied; from=<spam@b.example> to=<victim{i}@example.org> "
                                      f"proto=ESMTP helo=<probe{i}>"))
        lines.append(w.line(tag, pid, f"disconnect from {client} ehlo=1 mail=1 rcpt=0/1 quit=1 commands=3/4"))
    return lines


def concurrency_burst(w, parallel):
    """One client opens `parallel` submission sessions at once (more than the
    5 saslauthd workers); the sessions beyond the pool fail."""
    tag = "postfix/submission/smtpd"
    client = "mail-ot1-f41.google.com[209.85.210.41]"
    pids = [w.next_pid() for _ in range(parallel)]
    lines = [w.line(tag, pid, f"connect from {client}") for pid in pids]
    for k, pid in enumerate(pids):
        if k < 4:
            qid = w.next_qid()
            lines.append(w.line(tag, pid, f"{qid}: client={client}, sasl_method=PLAIN, sasl_username=alice"))
    for pid in pids[4:]:
        lines.append(w.line(tag, pid, "warning: SASL authentication failure: cannot connect to saslauthd server: "
                                      "Resource temporarily unavailable"))
        lines.append(w.line(tag, pid, f"warning: {client}: SASL PLAIN authentication failed: generic failure"))
    for k, pid in enumerate(pids):
        if k < 4:
            stats = "ehlo=1 auth=1 mail=1 rcpt=1 data=1 quit=1 commands=6"
        else:
            stats = "ehlo=1 auth=0/1 quit=1 commands=2/3"
        lines.append(w.line(tag, pid, f"disconnect from {client} {stats}"))
    return lines


def client_limits(w, n_refused):
    """One client beyond smtpd_client_connection_count_limit on port 25
    (421 and disconnect), and a guesser slowed by the AUTH rate limit."""
    lines = []
    client = "unknown[192.0.2.77]"
    for _ in range(n_refused):
        pid = w.next_pid()
        lines.append(w.line("postfix/smtpd", pid, f"connect from {client}"))
        lines.append(w.line("postfix/smtpd", pid, f"warning: Connection concurrency limit exceeded: 51 from "
                                                  f"{client} for service smtp"))
        lines.append(w.line("postfix/smtpd", pid, f"disconnect from {client} commands=0/0"))
    tag = "postfix/submission/smtpd"
    pid = w.next_pid()
    guesser = "unknown[203.0.113.200]"
    lines.append(w.line(tag, pid, f"connect from {guesser}"))
    lines.append(w.line(tag, pid, f"warning: AUTH command rate limit exceeded: 11 from {guesser} "
                                  f"for service submission"))
    lines.append(w.line(tag, pid, f"disconnect from {guesser} ehlo=1 auth=0/1 quit=1 commands=2/3"))
    return lines


def relay_credentials_rejected(w):
    """Postfix's smtp client: the relay host answers 535 to its AUTH."""
    qid = w.next_qid()
    return [w.line("postfix/smtp", w.next_pid(),
                   f"{qid}: to=<bob@example.org>, relay=smtp.example.net[198.51.100.25]:587, delay=0.4, "
                   "delays=0.01/0/0.35/0, dsn=4.7.8, status=deferred (SASL authentication failed; server "
                   "smtp.example.net[198.51.100.25] said: 535 5.7.8 Error: authentication failed: "
                   "authentication failure)")]


def mail_flow(w):
    """Deliveries (3 sent, 1 bounced: below the deferred-ratio and bounce
    thresholds with the 1 deferred of relay_credentials_rejected), a bounce
    notice, the queue manager, an outgoing connection timeout, TLS, cleanup
    and milter rejects, and postscreen verdicts."""
    lines = []
    for i in range(3):
        qid = w.next_qid()
        lines.append(w.line("postfix/smtp", w.next_pid(),
                            f"{qid}: to=<friend{i}@example.org>, relay=mx.example.org[192.0.2.9]:25, delay=1.2, "
                            "delays=0.1/0.01/0.5/0.59, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as X)"))
        lines.append(w.line("postfix/qmgr", 900, f"{qid}: removed"))
    qid = w.next_qid()
    lines += [
        w.line("postfix/smtp", w.next_pid(),
               f"{qid}: to=<gone@example.org>, relay=mx.example.org[192.0.2.9]:25, delay=0.8, "
               "delays=0.1/0/0.3/0.4, dsn=5.1.1, status=bounced (host mx.example.org[192.0.2.9] said: "
               "550 5.1.1 <gone@example.org>: Recipient address rejected: User unknown (in reply to RCPT TO command))"),
        w.line("postfix/bounce", w.next_pid(), f"{qid}: sender non-delivery notification: {w.next_qid()}"),
        w.line("postfix/qmgr", 900, f"{w.next_qid()}: from=<old@example.net>, status=expired, returned to sender"),
        w.line("postfix/smtp", w.next_pid(), "connect to mx.slow.example[192.0.2.66]:25: Connection timed out"),
        w.line("postfix/smtpd", w.next_pid(), "Anonymous TLS connection established from unknown[192.0.2.1]: "
                                              "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)"),
        w.line("postfix/cleanup", w.next_pid(), f"{w.next_qid()}: reject: header Subject: win big from "
                                                "unknown[192.0.2.2]; from=<s@b.example> to=<u@example.com> "
                                                "proto=ESMTP helo=<b>: 5.7.1 message content rejected"),
        w.line("postfix/cleanup", w.next_pid(), f"{w.next_qid()}: milter-reject: END-OF-MESSAGE from "
                                                "unknown[192.0.2.3]: 5.7.1 spam; from=<s@b.example> "
                                                "to=<u@example.com> proto=ESMTP helo=<b>"),
    ]
    tag = "postfix/postscreen"
    lines += [
        w.line(tag, 950, "CONNECT from [192.0.2.50]:40000 to [192.0.2.1]:25"),
        w.line(tag, 950, "PASS NEW [192.0.2.50]:40000"),
        w.line(tag, 950, "CONNECT from [192.0.2.51]:40001 to [192.0.2.1]:25"),
        w.line(tag, 950, "PREGREET 11 after 0.08 from [192.0.2.51]:40001: EHLO x\\r\\n"),
        w.line(tag, 950, "CONNECT from [192.0.2.52]:40002 to [192.0.2.1]:25"),
        w.line(tag, 950, "NOQUEUE: reject: CONNECT from [192.0.2.52]:40002: all server ports busy"),
    ]
    return lines


def master_and_anvil(w):
    return [
        w.line("postfix/master", 1000, 'warning: service "submission" (submission) has reached its process '
                                       'limit "6": new clients may experience noticeable delays'),
        w.line("postfix/master", 1000, "warning: to avoid this condition, increase the process count in "
                                       "master.cf or reduce the service time per client"),
        w.line("postfix/master", 1000, "warning: see https://www.postfix.org/STRESS_README.html for examples "
                                       "of stress-adapting configuration settings"),
        w.line("postfix/anvil", 1001, "statistics: max connection count 6 for (submission:209.85.210.41) at "
                                      + datetime.datetime.now().strftime("%b %d %H:%M:%S")),
    ]
