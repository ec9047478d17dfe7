// The mail-flow view of the selected hosts: delivery results, delays and
// connection errors; the queue (showq, with --postfix.showq_path); smtpd
// rejects by reason and stage, and cleanup/milter verdicts; postscreen.
// Thresholds of alerts_mailflow.libsonnet are drawn dashed.
{
  local c = $._config,
  local n = $.recordNames,
  local g = import '../lib/grafana.libsonnet',
  local q = (import '../lib/promql.libsonnet')(c),
  local d = q.d,
  local by = q.dashBy,
  local t(expr, legend) = g.target(expr, q.legend(legend)),
  local rate(metric, extra='') = 'rate(%s[$__rate_interval])' % d(metric, extra),

  local delivery = [
    [g.timeseries('Delivery results by status',
                  'Recipients per second by delivery result (postfix_delivery_status_total): sent, deferred (will be retried), bounced (permanent failure, the sender gets a notice), expired (returned after maximal_queue_lifetime), undeliverable (address verification probes).',
                  'ops', [t('sum by (status) (%s)' % rate('postfix_delivery_status_total'), '{{status}}')], stacked=true), 12, 8],
    [g.timeseries('Deferred share per transport',
                  'Deferred / all delivery results (without address verification probes) per delivery transport (smtp, lmtp, local, virtual, pipe, ...), against the PostfixDeferredRatioHigh threshold (%s, dashed). The alert judges 15 minutes and only transports with at least %s results.' % [n.deferredRatio, n.deliveryMinPer15m],
                  'percentunit', [
                    t('sum %(by)s (%(def)s) / sum %(by)s (%(all)s)' % {
                      by: by(['instance', 'transport']),
                      def: rate('postfix_delivery_status_total', 'status="deferred"'),
                      all: rate('postfix_delivery_status_total', 'status!="undeliverable"'),
                    }, '{{instance}} {{transport}}'),
                    t('max %s (%s)' % [by(['instance']), d(n.deferredRatio)], 'threshold {{instance}}'),
                  ], overrides=[g.dashedLine('threshold .*', 'red')], min=0, max=1), 12, 8],
    [g.timeseries('Bounced recipients in 15 minutes',
                  'Recipients bounced in the trailing 15 minutes (recording rule %s) against the PostfixBounceSpike threshold (%s, dashed).' % [n.deliveryStatus15m, n.bouncedPer15m],
                  'short', [
                    t('sum %s (%s)' % [by(['instance']), d(n.deliveryStatus15m, 'status="bounced"')], 'bounced {{instance}}'),
                    t('max %s (%s)' % [by(['instance']), d(n.bouncedPer15m)], 'threshold {{instance}}'),
                  ], overrides=[g.dashedLine('threshold .*', 'red')]), 8, 8],
    [g.timeseries('Delivery delay p95 by stage',
                  "95th percentile of each delay stage of a delivery attempt (delays=a/b/c/d): before_queue_manager (arrival, and time in the deferred queue for retries), queue_manager (waiting in the active queue), connection_setup (DNS, connect, greeting, TLS), transmission. PostfixDeliveryDelayHigh fires at %s (dashed). The histogram's buckets are coarse (1 s, 10 s, 1 min, 1 h, 1 d): read the order of magnitude." % n.deliveryDelayP95Seconds,
                  's', [
                    t('histogram_quantile(0.95, sum by (le, stage) (%s))' % rate('postfix_delivery_delay_seconds_bucket'), '{{stage}}'),
                    t('max %s (%s)' % [by(['instance']), d(n.deliveryDelayP95Seconds)], 'threshold {{instance}}'),
                  ], overrides=[g.dashedLine('threshold .*', 'red')]), 8, 8],
    [g.timeseries('Failed deliveries by transport and DSN class',
                  'Recipients per second that were not sent, by delivery transport and DSN class (4: temporary, retried; 5: permanent).',
                  'ops', [t('sum by (transport, dsn_class) (%s)' % rate('postfix_delivery_status_total', 'status!="sent"'), '{{transport}} dsn {{dsn_class}}')], stacked=true), 8, 8],
    [g.timeseries('Outgoing connection errors',
                  "Failures of Postfix's smtp/lmtp client to reach a server, per second, by class (timeout, refused, no_route, tls, dns, other), and connections that timed out.",
                  'ops', [
                    t('sum by (class) (%s)' % rate('postfix_smtp_connect_errors_total'), '{{class}}'),
                    t('sum %s (%s)' % [by(['instance']), rate('postfix_smtp_connection_timed_out_total')], 'timed out {{instance}}'),
                  ]), 8, 8],
    [g.timeseries('Notifications sent by bounce',
                  'Notices the bounce daemon sent per second, by type: non_delivery (to the sender of a bounced message), delay (delay_warning_time), delivery_status (requested DSN).',
                  'ops', [t('sum by (type) (%s)' % rate('postfix_bounce_notifications_total'), '{{type}}')], stacked=true), 8, 8],
    [g.timeseries('TLS sessions by direction and protocol',
                  'TLS sessions established per second, inbound (smtpd) and outbound (smtp), by protocol version; a rise of old versions or a drop of outbound TLS is worth a look.',
                  'ops', [t('sum by (direction, protocol) (%s)' % rate('postfix_tls_connections_total'), '{{direction}} {{protocol}}')]), 8, 8],
  ],

  local queue = [
    [g.timeseries('Messages in queue',
                  "Messages per Postfix queue (incoming, active, deferred, hold, maildrop) at each scrape, as mailq sees them (recording rule %s over showq's histograms). Needs --postfix.showq_path; no data while showq cannot be read (see showq reachable)." % n.queueMessages,
                  'short', [t('sum by (queue) (%s)' % d(n.queueMessages), '{{queue}}')], stacked=true), 12, 8],
    [g.timeseries('Queue growth per hour',
                  'How fast each queue grows, in messages per hour (per-second slope over the interval × 3600), against the PostfixQueueGrowing threshold (%s more messages than an hour ago, dashed).' % n.queueGrowthMessagesPer1h,
                  'short', [
                    t('sum %s (deriv(%s[$__rate_interval])) * 3600' % [by(['instance', 'queue']), d(n.queueMessages)], '{{instance}} {{queue}}'),
                    t('max %s (%s)' % [by(['instance']), d(n.queueGrowthMessagesPer1h)], 'threshold {{instance}}'),
                  ], overrides=[g.dashedLine('threshold .*', 'red')]), 12, 8],
    [g.timeseries('Queue size in bytes',
                  'Bytes of the messages in each queue (sum of the showq size histogram).',
                  'bytes', [t('sum by (queue) (%s)' % d('postfix_showq_message_size_bytes_sum'), '{{queue}}')], stacked=true), 8, 8],
    [g.timeseries('Message age p95 per queue',
                  'Age of the 95th percentile oldest message of each queue, from the showq age histogram (buckets 10 s .. 1e8 s, so an order of magnitude). Old mail in deferred is mail that cannot leave.',
                  's', [t('histogram_quantile(0.95, sum by (queue, le) (%s))' % d('postfix_showq_message_age_seconds_bucket'), '{{queue}}')]), 8, 8],
    [g.timeseries('Queue manager: removed and expired',
                  'Messages per second the queue manager removed (delivered or bounced to every recipient) and returned to the sender after maximal_queue_lifetime.',
                  'ops', [
                    t('sum %s (%s)' % [by(['instance']), rate('postfix_qmgr_messages_removed_total')], 'removed {{instance}}'),
                    t('sum %s (%s)' % [by(['instance']), rate('postfix_qmgr_messages_expired_total')], 'expired {{instance}}'),
                  ]), 8, 8],
    [g.stat('showq reachable',
            'Lowest postfix_up of the selected exporters: 1 when the last scrape read the queue from the showq socket, 0 when it could not (socket missing, no postdrop group, timeout).',
            'none', [t('min(%s)' % d('postfix_up'), 'showq up')],
            steps=[['red', null], ['green', 1]],
            mappings=[{ type: 'value', options: { '0': { text: 'DOWN', color: 'red' }, '1': { text: 'UP', color: 'green' } } }]), 24, 4],
  ],

  local rejects = [
    [g.timeseries('smtpd rejects by reason',
                  'smtpd reject lines per second by category, the restriction that said no: relay (Relay access denied), rbl (reject_rbl_client, a DNSBL), helo, sender, recipient, client, policy (policy service), milter, size, tls, other.',
                  'ops', [t('sum by (category) (%s)' % rate('postfix_smtpd_rejects_total'), '{{category}}')], stacked=true), 12, 8],
    [g.timeseries('smtpd rejects by stage',
                  'smtpd reject lines per second by the SMTP command they answered (CONNECT, HELO, MAIL, RCPT, DATA, END-OF-MESSAGE, BDAT, VRFY, ETRN, other).',
                  'ops', [t('sum by (stage) (%s)' % rate('postfix_smtpd_rejects_total'), '{{stage}}')], stacked=true), 12, 8],
    [g.timeseries('Rejects by service',
                  'smtpd rejects per second and Postfix service: port 25 (smtp) sees spam and probes; rejects on submission hit your own users.',
                  'ops', [t('sum %s (%s)' % [by(['instance', 'service']), rate('postfix_smtpd_rejects_total')], '{{instance}} {{service}}')]), 12, 8],
    [g.timeseries('cleanup and milter verdicts',
                  'Messages per second cleanup rejected (header/body checks, milters) and milter verdicts by action (reject, discard, hold).',
                  'ops', [
                    t('sum %s (%s)' % [by(['instance']), rate('postfix_cleanup_messages_rejected_total')], 'cleanup rejected {{instance}}'),
                    t('sum by (action) (%s)' % rate('postfix_cleanup_milter_actions_total'), 'milter {{action}}'),
                  ]), 12, 8],
  ],

  local postscreen = [
    [g.timeseries('postscreen verdicts',
                  'postscreen decisions per second by action: pass_new / pass_old (client passed the tests / was already known), dnsbl_rank, pregreet, hangup, command_pipelining, non_smtp_command, bare_newline (failed tests), denylisted / allowlisted (access list), too_many_connections, all_server_ports_busy (turned away for capacity).',
                  'ops', [t('sum by (action) (%s)' % rate('postfix_postscreen_actions_total'), '{{action}}')], stacked=true), 12, 8],
    [g.timeseries('postscreen turned away',
                  'Share of postscreen verdicts that were not a pass or allowlisting (bots stopped before smtpd), and clients per second turned away because postscreen or smtpd had no room (too_many_connections: postscreen_client_connection_count_limit; all_server_ports_busy: every smtpd process busy).',
                  'percentunit', [
                    t('sum %(by)s (%(fail)s) / sum %(by)s (%(all)s)' % {
                      by: by(['instance']),
                      fail: rate('postfix_postscreen_actions_total', 'action!~"pass_new|pass_old|allowlisted"'),
                      all: rate('postfix_postscreen_actions_total'),
                    }, 'not passed {{instance}}'),
                    t('sum by (action) (%s)' % rate('postfix_postscreen_actions_total', 'action=~"too_many_connections|all_server_ports_busy"'), 'capacity {{action}}/s'),
                  ], overrides=[{
                    matcher: { id: 'byRegexp', options: 'capacity .*' },
                    properties: [{ id: 'unit', value: 'ops' }, { id: 'custom.axisPlacement', value: 'right' }],
                  }]), 12, 8],
  ],

  grafanaDashboards+:: {
    'postfix-sasl-exporter-mailflow.json': g.dashboard(
      c.mailFlowUID,
      'Postfix / Mail flow',
      'Delivery results, deferrals, bounces and delays; the queue (showq); smtpd rejects by reason and stage; postscreen verdicts. From postfix-sasl-exporter; the alert thresholds are drawn dashed.',
      c.dashboardTags,
      c.dashboardRefresh,
      c.dashboardTimeFrom,
      (import 'variables.libsonnet')(c),
      g.layout([
        ['Delivery', delivery],
        ['Queue', queue],
        ['Rejects', rejects],
        ['Postscreen', postscreen],
      ]),
      [
        g.link('Overview', '/d/' + c.overviewUID, 'SASL, sessions and exporter health of the selected instances'),
        g.link('Fleet', '/d/' + c.fleetUID, 'All Postfix hosts ranked'),
        g.link('Runbook', c.runbookURL, 'What each alert means and how to fix it', icon='doc', keepVars=false),
      ],
    ),
  },
}
