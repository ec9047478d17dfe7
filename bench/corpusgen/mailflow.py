"""The expected mail-flow series (issue 14's families) of the lines the
generator writes: delivery status and delays, queue manager, cleanup,
postscreen actions and TLS handshakes, recorded into the Model as each line
is pushed. Label values are what the generator chose (a transport, a trust
level, an action), not parsed back from the text."""

STAGES = ("before_queue_manager", "queue_manager", "connection_setup", "transmission")
SERVICE = "smtp"  # syslog_name "postfix": every mail-flow series has service="smtp"

# The TLS texts model.py writes: protocol, cipher, algorithm and secret bits.
TLS_TEXTS = {
    "TLSv1.3": ("TLS_AES_256_GCM_SHA384", "256", "256"),
    "TLSv1.2": ("ECDHE-RSA-AES256-GCM-SHA384", "256", "256"),
}

# Families whose every series the generator's truth lists.
COMPLETE = [
    "postfix_delivery_status_total", "postfix_cleanup_messages_processed_total",
    "postfix_qmgr_messages_removed_total", "postfix_postscreen_actions_total",
    "postfix_tls_connections_total", "postfix_smtp_tls_connections_total",
    "postfix_smtpd_tls_connections_total", "postfix_smtp_deferred_messages_total",
    "postfix_smtp_connect_errors_total", "postfix_smtpd_rejects_total",
    "postfix_delivery_delay_seconds_count", "postfix_smtp_delivery_delay_seconds_count",
    "postfix_lmtp_delivery_delay_seconds_count",
    "postfix_qmgr_messages_inserted_receipients_count",
    "postfix_qmgr_messages_inserted_receipients_sum",
    "postfix_qmgr_messages_inserted_size_bytes_count",
    "postfix_qmgr_messages_inserted_size_bytes_sum",
]


class MailFlowTruth:
    def __init__(self, model):
        self.m = model

    def tls(self, service, direction, trust, text):
        protocol = text.split(" ", 1)[0]
        self.m.inc("postfix_tls_connections_total", service=service, direction=direction,
                   trust=trust, protocol=protocol)
        cipher, alg_bits, secret_bits = TLS_TEXTS[protocol]
        kumina = ("postfix_smtpd_tls_connections_total" if direction == "inbound"
                  else "postfix_smtp_tls_connections_total")
        self.m.inc(kumina, service=service, trust=trust, protocol=protocol, cipher=cipher,
                   algorithm_bits=alg_bits, secret_bits=secret_bits)

    def postscreen(self, action):
        self.m.inc("postfix_postscreen_actions_total", service=SERVICE, action=action)

    def queued(self, nrcpt, size):
        """cleanup's message-id line and qmgr's "from=..., size=, nrcpt=" line."""
        self.m.inc("postfix_cleanup_messages_processed_total", service=SERVICE)
        self.m.inc("postfix_qmgr_messages_inserted_receipients_count", service=SERVICE)
        self.m.inc("postfix_qmgr_messages_inserted_receipients_sum", nrcpt, service=SERVICE)
        self.m.inc("postfix_qmgr_messages_inserted_size_bytes_count", service=SERVICE)
        self.m.inc("postfix_qmgr_messages_inserted_size_bytes_sum", size, service=SERVICE)

    def removed(self):
        self.m.inc("postfix_qmgr_messages_removed_total", service=SERVICE)

    def delivered(self, transport, status, dsn_class):
        """One recipient's status line, which is also one delivery attempt:
        the generator gives every recipient of a message its own attempt
        (another smtp process, another delays= split)."""
        self.m.inc("postfix_delivery_status_total", service=SERVICE, transport=transport,
                   status=status, dsn_class=dsn_class)
        for stage in STAGES:
            self.m.inc("postfix_delivery_delay_seconds_count", service=SERVICE,
                       transport=transport, stage=stage)
            if transport in ("smtp", "lmtp"):  # kumina's per-line histograms
                self.m.inc("postfix_%s_delivery_delay_seconds_count" % transport,
                           service=SERVICE, stage=stage)
        if transport == "smtp" and status == "deferred":
            self.m.inc("postfix_smtp_deferred_messages_total", service=SERVICE)
