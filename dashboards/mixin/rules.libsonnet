// prometheusRules: the tunables group (one series per scraped exporter for
// every threshold in _config, so that alerts join them `on (job, instance)`
// and dashboards draw them) and the shared rate recording rules.
{
  local c = $._config,
  local q = (import 'lib/promql.libsonnet')(c),
  local win = c.rateInterval,

  // Recording rule names, shared with the alerts and dashboards.
  recordNames:: {
    saslauthdWorkers: 'postfix:saslauthd_workers',
    saslBruteForceFailures: 'postfix:threshold_sasl_bruteforce_failures_per_' + win,
    saslMinSuccessesPerHour: 'postfix:threshold_sasl_min_successes_per_hour',
    relayDeniedRejects: 'postfix:threshold_relay_denied_per_' + win,
    saslAuthUnavailablePer15m: 'postfix:threshold_sasl_auth_unavailable_per_15m',
    smtpdSessionsNearProcessLimit: 'postfix:threshold_smtpd_sessions_near_process_limit',
    logStaleSeconds: 'postfix:threshold_log_stale_seconds',
    smtpdUnrecognizedLinesPer15m: 'postfix:threshold_smtpd_unrecognized_lines_per_15m',
    smtpdConnectionCountLimitPer15m: 'postfix:threshold_smtpd_connection_count_limit_per_15m',
    smtpSaslFailuresPer15m: 'postfix:threshold_smtp_sasl_failures_per_15m',
    queueGrowthMessagesPer1h: 'postfix:threshold_queue_growth_messages_per_1h',
    deferredRatio: 'postfix:threshold_deferred_ratio',
    deliveryMinPer15m: 'postfix:threshold_delivery_min_per_15m',
    bouncedPer15m: 'postfix:threshold_bounced_per_15m',
    deliveryDelayP95Seconds: 'postfix:threshold_delivery_delay_p95_seconds',
    saslSingleSourceFailuresPerMinute: 'postfix:threshold_sasl_single_source_failures_per_minute',
    saslDistributedFailingClients: 'postfix:threshold_sasl_distributed_failing_clients',
    saslAccountClients: 'postfix:threshold_sasl_account_clients',

    successRate: 'postfix:sasl_authentication_successes:rate' + win,
    failureRate: 'postfix:sasl_authentication_failures:rate' + win,
    failureRateByReason: 'postfix:sasl_authentication_failures_by_reason:rate' + win,
    failureRatio: 'postfix:sasl_authentication_failure_ratio:rate' + win,
    relayDeniedRate: 'postfix:smtpd_relay_denied:rate' + win,
    sessionsMax: 'postfix:smtpd_sessions_max:max' + win,
    queueMessages: 'postfix:showq_messages:sum',
    deliveryStatus15m: 'postfix:delivery_status:increase15m',
    failuresByClientRate: 'postfix:smtpd_sasl_failures_by_client:rate10m',
  },
  local n = self.recordNames,

  // The order of the tunables group (kept stable for readers of the file).
  local tunables = [
    'saslauthdWorkers',
    'saslBruteForceFailures',
    'saslMinSuccessesPerHour',
    'relayDeniedRejects',
    'saslAuthUnavailablePer15m',
    'smtpdSessionsNearProcessLimit',
    'logStaleSeconds',
    'smtpdUnrecognizedLinesPer15m',
    'smtpdConnectionCountLimitPer15m',
    'smtpSaslFailuresPer15m',
    'queueGrowthMessagesPer1h',
    'deferredRatio',
    'deliveryMinPer15m',
    'bouncedPer15m',
    'deliveryDelayP95Seconds',
    'saslSingleSourceFailuresPerMinute',
    'saslDistributedFailingClients',
    'saslAccountClients',
  ],

  // One series per exporter: `max by (job, instance) (build_info) * 0 + V`.
  // Overrides come first; `or` keeps them and fills in the default for
  // every other exporter.
  local perExporter(matchers, value) =
    'max by (%s) (%s) * 0 + %s' % [q.host, q.m('postfix_exporter_build_info', matchers), value],
  local tunableExpr(key) = (
    local overrides = if std.objectHas(c.instanceOverrides, key) then c.instanceOverrides[key] else [];
    std.join('\nor\n', [perExporter(o.matchers, o.value) for o in overrides] + [perExporter('', c[key])])
  ),

  local sumRate(metric, by) = |||
    sum by (%s) (
      rate(%s[%s])
    )
  ||| % [q.hostAnd(by), q.m(metric), win],

  prometheusRules+:: {
    groups+: [
      {
        name: 'postfix-sasl-exporter-config',
        rules: [
          { record: n[key], expr: tunableExpr(key) }
          for key in tunables
        ],
      },
      {
        name: 'postfix-sasl-exporter-recording',
        rules: [
          { record: n.successRate, expr: sumRate('postfix_smtpd_sasl_authentication_successes_total', ['service']) },
          { record: n.failureRate, expr: sumRate('postfix_smtpd_sasl_authentication_failures_total', ['service']) },
          { record: n.failureRateByReason, expr: sumRate('postfix_smtpd_sasl_authentication_failures_total', ['service', 'reason']) },
          // Failed / (failed + successful); no series (rather than NaN)
          // while a service has no attempts at all.
          {
            record: n.failureRatio,
            expr: |||
              %(f)s
              /
              (
                %(f)s
                + %(s)s
                > 0
              )
            ||| % { f: n.failureRate, s: n.successRate },
          },
          { record: n.relayDeniedRate, expr: sumRate('postfix_smtpd_relay_denied_total', ['service']) },
          // The exporter's gauge is already a 60 s trailing maximum; this
          // keeps a peak visible to alerts whose failures are logged later.
          {
            record: n.sessionsMax,
            expr: |||
              max by (%s) (
                max_over_time(%s[%s])
              )
            ||| % [q.hostAnd(['service']), q.m('postfix_smtpd_sessions_max'), win],
          },
          // Messages per queue now: showq's histograms are a snapshot of the
          // queue at each scrape, so _count is a gauge (no series while
          // postfix_up is 0).
          {
            record: n.queueMessages,
            expr: |||
              sum by (%s) (
                %s
              )
            ||| % [q.hostAnd(['queue']), q.m('postfix_showq_message_age_seconds_count')],
          },
          // Delivery results (recipients) in 15 minutes, counting the first
          // value of a series created inside the window.
          {
            record: n.deliveryStatus15m,
            expr: 'sum by (%s) %s' % [q.hostAnd(['transport', 'status']), q.increaseWithNewSeries('postfix_delivery_status_total', '', '15m')],
          },
          // Failed logins per second of each top client network (not the
          // "other" remainder) over 10 minutes.
          {
            record: n.failuresByClientRate,
            expr: |||
              sum by (%s) (
                rate(%s[10m])
              )
            ||| % [q.hostAnd(['client']), q.m('postfix_smtpd_sasl_failures_by_client_total', 'client!="other"')],
          },
        ],
      },
    ],
  },
}
