"""Truth: what the scripted client did, in the exporter's label vocabulary,
and the metric families it implies (expected_families), compared with a
scrape (compare) or written out as JSON (save_truth).

Every expected value is counted on the client's side as the client acts;
nothing is copied from the exporter's output or from the log. FAMILIES also
names, per family, the log lines that feed it, so a mismatch prints them.
"""
import collections
import json
import re

from e2e_common import LOCAL_DOMAIN, USERS, log
from postfix_instance import RELAY_DOMAIN
import smtp_sink

# The `service` label of the mail-flow daemons (cleanup, qmgr, bounce, smtp,
# virtual): they log as plain "postfix".
MAIL_SERVICE = "smtp"
STAGES = ("before_queue_manager", "queue_manager", "connection_setup", "transmission")


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
        # Smtpd rejects other than relay denials: (service, code).
        self.rejects = collections.Counter()
        # Mail flow, all under MAIL_SERVICE but postscreen's.
        self.delivery = collections.Counter()  # (transport, status, dsn_class)
        self.attempts = collections.Counter()  # transport
        self.smtp_lines = 0
        self.smtp_deferred = 0
        self.cleanup_processed = 0
        self.cleanup_rejected = 0
        self.qmgr_inserted = 0
        self.qmgr_rcpts = 0
        self.qmgr_removed = 0
        self.bounce_notices = collections.Counter()  # type
        self.postscreen = collections.Counter()  # (service, action)
        self.postscreen_passed = False  # 127.0.0.1 is in postscreen's cache
        self.sink_messages = []  # sorted recipients the sink must accept, per message
        # Inbound TLS handshakes: (service, protocol, cipher, secret_bits).
        self.tls = collections.Counter()

    def note(self, service, what):
        self.journal.append("%-10s %s" % (service, what))

    def failure(self, service, method, reason, what):
        self.failures[(service, method, reason)] += 1
        self.note(service, "%s -> failure %s/%s" % (what, method, reason))

    def tls_handshake(self, service, ssl_sock):
        """smtpd logs `Anonymous TLS connection established` for each
        handshake (no client certificate), with what the client negotiated."""
        name, _, bits = ssl_sock.cipher()
        self.tls[(service, ssl_sock.version(), name, str(bits))] += 1

    def accepted_message(self, sender, rcpts):
        """A message Postfix queued (250 after DATA) and what becomes of it.

        cleanup logs its message-id and qmgr its arrival (nrcpt). Recipients
        in LOCAL_DOMAIN are delivered by virtual(8); those in RELAY_DOMAIN by
        the smtp client to the sink, in one attempt per message, each as the
        sink answers its RCPT. A bounced recipient makes bounce(8) send the
        sender a non-delivery notice at once, itself a message (from <>) to a
        local sender. qmgr removes the message unless a recipient is deferred
        (the retry is an hour away, after the test).
        """
        self.cleanup_processed += 1
        self.qmgr_inserted += 1
        self.qmgr_rcpts += len(rcpts)
        outcomes = collections.Counter()
        for r in rcpts:
            domain = r.rsplit("@", 1)[1]
            if domain == LOCAL_DOMAIN:
                transport, code = "virtual", "250"
            elif domain == RELAY_DOMAIN:
                transport, code = "smtp", smtp_sink.rcpt_reply(r).decode()[:3]
            else:
                raise AssertionError("the scenario only mails %s and %s" % (LOCAL_DOMAIN, RELAY_DOMAIN))
            status = {"2": "sent", "4": "deferred", "5": "bounced"}[code[0]]
            outcomes[(transport, status, code[0])] += 1
        for (transport, status, dsn), n in outcomes.items():
            self.delivery[(transport, status, dsn)] += n
        for transport in {t for t, _, _ in outcomes}:
            self.attempts[transport] += 1
        self.smtp_lines += sum(n for (t, _, _), n in outcomes.items() if t == "smtp")
        self.smtp_deferred += outcomes[("smtp", "deferred", "4")]
        sunk = sorted(r for r in rcpts if r.endswith("@" + RELAY_DOMAIN)
                      and smtp_sink.rcpt_reply(r).startswith(b"250"))
        if sunk:
            self.sink_messages.append(sunk)
        if not any(s == "deferred" for _, s, _ in outcomes):
            self.qmgr_removed += 1
        if any(s == "bounced" for _, s, _ in outcomes):
            assert sender.endswith("@" + LOCAL_DOMAIN), "a bounce must come home"
            self.bounce_notices["non_delivery"] += 1
            self.accepted_message("", [sender])

    def delivery_lines(self):
        return sum(self.delivery.values())

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
    # Mail flow (issue 14 item 8).
    "postfix_delivery_status_total": (
        ("service", "transport", "status", "dsn_class"), r": to=<.*status="),
    "postfix_delivery_delay_seconds_count": (
        ("service", "transport", "stage"), r": to=<.*delays="),
    "postfix_smtp_delivery_delay_seconds_count": (("service", "stage"), r"/smtp\[\d+\]: .*delays="),
    "postfix_smtp_deferred_messages_total": (("service",), r"/smtp\[\d+\]: .*status=deferred"),
    "postfix_smtp_connect_errors_total": (("service", "class"), r"/smtp\[\d+\]: "),
    "postfix_qmgr_messages_inserted_receipients_count": (("service",), r"qmgr\[\d+\]: .*nrcpt="),
    "postfix_qmgr_messages_inserted_receipients_sum": (("service",), r"qmgr\[\d+\]: .*nrcpt="),
    "postfix_qmgr_messages_inserted_size_bytes_count": (("service",), r"qmgr\[\d+\]: .*size="),
    "postfix_qmgr_messages_removed_total": (("service",), r"qmgr\[\d+\]: \w+: removed"),
    "postfix_cleanup_messages_processed_total": (("service",), r"cleanup\[\d+\]: \w+: message-id="),
    "postfix_cleanup_messages_rejected_total": (("service",), r"cleanup\[\d+\]: \w+: reject: "),
    "postfix_bounce_notifications_total": (("service", "type"), r"bounce\[\d+\]: "),
    "postfix_postscreen_actions_total": (("service", "action"), r"postscreen\[\d+\]: "),
    "postfix_tls_connections_total": (
        ("service", "direction", "trust", "protocol"), r"TLS connection established"),
    "postfix_smtpd_tls_connections_total": (
        ("service", "trust", "protocol", "cipher", "secret_bits", "algorithm_bits"),
        r"smtpd\[\d+\]: .*TLS connection established"),
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
        # Relay denials (554) and the access map's (550).
        "postfix_smtpd_messages_rejected_total": {
            k: float(v) for k, v in
            (truth.rejects + collections.Counter({(s, "554"): v for s, v in
                                                  truth.relay_denied.items()})).items()},
        "postfix_smtpd_connections_lost_total":
            {k: float(v) for k, v in truth.lost_after.items() if v},
        "postfix_anvil_connection_count_max":
            {(): float(truth.anvil_count_max)} if truth.anvil_count_max else {},
        **mail_flow_families(truth),
        **tls_families(truth),
    }


def mail_flow_families(truth):
    m = MAIL_SERVICE

    def one(v):
        return {(m,): float(v)} if v else {}
    return {
        "postfix_delivery_status_total":
            {(m,) + k: float(v) for k, v in truth.delivery.items() if v},
        # This exporter's own: once per delivery attempt, not per recipient.
        "postfix_delivery_delay_seconds_count":
            {(m, t, st): float(n) for t, n in truth.attempts.items() for st in STAGES},
        # kumina's: once per smtp delivery line.
        "postfix_smtp_delivery_delay_seconds_count":
            {(m, st): float(truth.smtp_lines) for st in STAGES} if truth.smtp_lines else {},
        "postfix_smtp_deferred_messages_total": one(truth.smtp_deferred),
        "postfix_smtp_connect_errors_total": {},  # the sink always answers
        "postfix_qmgr_messages_inserted_receipients_count": one(truth.qmgr_inserted),
        "postfix_qmgr_messages_inserted_receipients_sum": one(truth.qmgr_rcpts),
        "postfix_qmgr_messages_inserted_size_bytes_count": one(truth.qmgr_inserted),
        "postfix_qmgr_messages_removed_total": one(truth.qmgr_removed),
        "postfix_cleanup_messages_processed_total": one(truth.cleanup_processed),
        "postfix_cleanup_messages_rejected_total": one(truth.cleanup_rejected),
        "postfix_bounce_notifications_total":
            {(m, t): float(v) for t, v in truth.bounce_notices.items() if v},
        "postfix_postscreen_actions_total":
            {k: float(v) for k, v in truth.postscreen.items() if v},
    }


def tls_families(truth):
    own, kumina = collections.Counter(), collections.Counter()
    for (service, protocol, cipher, bits), n in truth.tls.items():
        own[(service, "inbound", "Anonymous", protocol)] += n
        # Python's ssl does not tell the algorithm bits; for the AEAD
        # ciphers TLS 1.3 and 1.2 negotiate here they equal the secret bits.
        kumina[(service, "Anonymous", protocol, cipher, bits, bits)] += n
    return {"postfix_tls_connections_total": {k: float(v) for k, v in own.items()},
            "postfix_smtpd_tls_connections_total": {k: float(v) for k, v in kumina.items()}}


def family(samples, name, keys):
    """{label values tuple: value} for the non-zero samples of one metric."""
    out = {}
    for key, v in samples.family(name).items():
        if v == 0:
            continue
        labels = samples.labels(key)
        out[tuple(labels.get(k, "") for k in keys)] = v
    return out


def compare(truth, samples, log_text):
    """Logs every family as ok or FAIL (with its log lines); the number of
    families that differ."""
    mismatches = 0
    lines = log_text.splitlines()
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
        for line in lines:
            if re.search(line_re, line):
                print("    " + line)
    return mismatches


def save_truth(truth, path):
    """The client's record as JSON: one metric sample per line, then the journal."""
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
