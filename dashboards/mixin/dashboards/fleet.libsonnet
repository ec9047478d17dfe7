// The fleet view: many hosts at once, ranked. Every bar links to that
// host's overview; the overview links back.
{
  local c = $._config,
  local n = $.recordNames,
  local g = import '../lib/grafana.libsonnet',
  local q = (import '../lib/promql.libsonnet')(c),
  local d = q.d,
  local by = q.dashBy(['instance']),
  local rate(metric, extra='') = 'rate(%s[$__rate_interval])' % d(metric, extra),
  local top(expr) = 'sort_desc(topk(%d, %s))' % [c.fleetTopK, expr],
  local legend = q.legend('{{instance}}'),
  local target(expr) = g.target(expr, legend, instant=true),

  // Into the overview of the host under the cursor, same time range.
  local clusterParam = if c.showMultiCluster then '&var-%s=${__field.labels.%s}' % [c.clusterLabel, c.clusterLabel] else '',
  local hostLink = {
    title: 'Overview of ${__field.labels.instance}',
    url: '/d/%s?${datasource:queryparam}%s&var-job=${__field.labels.job}&var-instance=${__field.labels.instance}&${__url_time_range}'
         % [c.overviewUID, clusterParam],
  },
  // Keep job (and cluster) on every ranked series for the link.
  local byHost = q.dashBy(['job', 'instance']),
  local bars(title, description, unit, expr, steps=[['green', null]], max=null) =
    [g.bargauge(title, description + " Click a bar for that host's overview.", unit, [target(top(expr))], [hostLink], steps, max), 12, 10],

  local summary = [
    [g.stat('Exporters', 'Exporters reporting (postfix_exporter_build_info series) among the selected jobs and instances.',
            'short', [g.target('count(%s)' % d('postfix_exporter_build_info'), 'exporters')]), 6, 4],
    [g.stat('Log sources down', 'Exporters that cannot read their log file or journal now (postfix_exporter_source_up = 0).',
            'short', [g.target('count(%s == 0) or vector(0)' % d('postfix_exporter_source_up'), 'down')],
            steps=[['green', null], ['red', 1]]), 6, 4],
    [g.stat('Failed SASL logins', 'Failed SMTP AUTH attempts per second over the whole selection.',
            'ops', [g.target('sum(%s)' % rate('postfix_smtpd_sasl_authentication_failures_total'), 'failures/s')]), 6, 4],
    [g.stat('Relay access denied', "'Relay access denied' rejects per second over the whole selection.",
            'ops', [g.target('sum(%s)' % rate('postfix_smtpd_relay_denied_total'), 'denials/s')]), 6, 4],
  ],

  local ranks = [
    bars('Top instances by SASL failure rate',
         'Failed SMTP AUTH attempts per second, all services and reasons, the %d busiest hosts.' % c.fleetTopK,
         'ops', 'sum %s (%s)' % [byHost, rate('postfix_smtpd_sasl_authentication_failures_total')]),
    bars('Top instances by relay denials',
         "'Relay access denied' rejects per second, all services, the %d busiest hosts." % c.fleetTopK,
         'ops', 'sum %s (%s)' % [byHost, rate('postfix_smtpd_relay_denied_total')]),
    bars('Top instances by session peak vs limit',
         'Highest per-service session peak of each host as a share of its process-limit warning level (%s, 100%% = PostfixSMTPDSessionsNearProcessLimit fires).' % n.smtpdSessionsNearProcessLimit,
         'percentunit',
         'max %s (%s) / on (%s) max %s (%s)' % [byHost, d('postfix_smtpd_sessions_max'), q.host, byHost, d(n.smtpdSessionsNearProcessLimit)],
         steps=[['green', null], ['orange', 0.8], ['red', 1]], max=1),
    bars('Top instances by log lag',
         'Age of the newest log line each exporter has read (grows when the source is stuck or Postfix is quiet); PostfixLogStale fires above %s.' % n.logStaleSeconds,
         's', 'time() - max %s (%s)' % [byHost, d('postfix_exporter_log_last_timestamp_seconds')]),
    bars('Top instances by connections refused at client limits',
         'Connections and requests refused per second because a client exceeded an smtpd_client_*_limit, all limits and services.',
         'ops', 'sum %s (%s)' % [byHost, rate('postfix_smtpd_client_limit_exceeded_total')]),
    bars('Top instances by relay host AUTH failures',
         "SASL failures per second of Postfix's smtp client at its relay host: outgoing mail is deferred there.",
         'ops', 'sum %s (%s)' % [byHost, rate('postfix_smtp_sasl_authentication_failures_total')]),
    bars('Top instances by deferred share',
         'Deferred / all delivery results (without address verification probes) of each host; PostfixDeferredRatioHigh judges each transport against %s.' % n.deferredRatio,
         'percentunit',
         'sum %(by)s (%(def)s) / sum %(by)s (%(all)s)' % {
           by: byHost,
           def: rate('postfix_delivery_status_total', 'status="deferred"'),
           all: rate('postfix_delivery_status_total', 'status!="undeliverable"'),
         },
         steps=[['green', null], ['orange', 0.1], ['red', 0.25]], max=1),
    bars('Top instances by queued messages',
         'Messages in all queues of each host now (%s; needs --postfix.showq_path).' % n.queueMessages,
         'short', 'sum %s (%s)' % [byHost, d(n.queueMessages)]),
  ],

  grafanaDashboards+:: {
    'postfix-sasl-exporter-fleet.json': g.dashboard(
      c.fleetUID,
      'Postfix SASL / Fleet',
      'Every Postfix host at once: the instances with the most SASL failures, relay denials, session peaks against their limit, log lag, client-limit refusals, relay host AUTH failures, deferred deliveries and queued mail. Each bar links to that host in the overview.',
      c.dashboardTags,
      c.dashboardRefresh,
      'now-1h',
      (import 'variables.libsonnet')(c),
      g.layout([
        ['Fleet', summary],
        ['Top instances', ranks],
      ]),
      [
        g.link('Overview', '/d/' + c.overviewUID, 'The per-host overview for the selected instances'),
        g.link('Mail flow', '/d/' + c.mailFlowUID, 'Delivery, queue, rejects and postscreen of the selected instances'),
        g.link('Runbook', c.runbookURL, 'What each alert means and how to fix it', icon='doc', keepVars=false),
      ],
    ),
  },
}
