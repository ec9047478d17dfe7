"""The expected-values document (--expected): every series the exporter must
show for the corpus written, the families listed completely, the counters
kumina's exporter and mtail's example can get right, and informative stats."""

import collections

from corpusgen.model import START_YEAR


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
        # Every postscreen session ends (DISCONNECT or PASS).
        series.append({"name": "postfix_postscreen_sessions", "labels": {"service": "smtp"},
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
    # The mail-flow, reject and postscreen families (histograms by their
    # _count series): every series the corpus makes is listed.
    complete += [
        "postfix_smtpd_rejects_total", "postfix_smtpd_reject_warnings_total",
        "postfix_delivery_status_total", "postfix_delivery_delay_seconds_count",
        "postfix_smtp_delivery_delay_seconds_count", "postfix_lmtp_delivery_delay_seconds_count",
        "postfix_pipe_delivery_delay_seconds_count",
        "postfix_qmgr_messages_inserted_receipients_count",
        "postfix_qmgr_messages_inserted_size_bytes_count", "postfix_qmgr_messages_removed_total",
        "postfix_qmgr_messages_expired_total", "postfix_cleanup_messages_processed_total",
        "postfix_cleanup_messages_rejected_total", "postfix_cleanup_messages_not_accepted_total",
        "postfix_cleanup_milter_actions_total", "postfix_bounce_notifications_total",
        "postfix_postscreen_actions_total", "postfix_tls_connections_total",
        "postfix_smtp_tls_connections_total", "postfix_smtpd_tls_connections_total",
        "postfix_smtp_deferred_messages_total", "postfix_smtp_connect_errors_total",
        "postfix_smtp_connection_timed_out_total",
        "postfix_smtpd_forward_confirmed_reverse_dns_errors_total",
    ]
    if args.profile == "mix":
        complete += ["postfix_smtpd_sessions", "postfix_postscreen_sessions"]
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
