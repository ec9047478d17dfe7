// prometheusAlerts: one group, the SASL, session and exporter alerts here,
// then those of alerts_mailflow.libsonnet (delivery and queue) and
// alerts_triage.libsonnet (who is attacking). Each alert has severity,
// summary, description and a runbook_url to its section of docs/runbook/<page>.md;
// promtool tests in dashboards/tests/ pin every threshold edge.
{
  local c = $._config,
  local q = (import 'lib/promql.libsonnet')(c),
  local n = $.recordNames,
  local win = c.rateInterval,
  local winSeconds = q.seconds(win),
  local winText = q.humanDuration(win),
  local refusedEarly = q.anyOf(c.reasonsRefusedBeforeBackend),

  local alert = q.alert,
  local increaseWithNewSeries = q.increaseWithNewSeries,

  prometheusAlerts+:: {
    groups+: [
      {
        name: 'postfix-sasl-exporter-alerts',
        rules: [
          alert(
            'PostfixSASLBruteForce', 'warning', c.saslBruteForceFor,
            |||
              sum by (%(host)s) (
                %(byReason)s{reason!~"backend_unavailable|auth_unavailable"}
              ) * %(secs)d
              > on (%(host)s) group_left ()
              %(threshold)s
            ||| % { host: q.host, byReason: n.failureRateByReason, secs: winSeconds, threshold: n.saslBruteForceFailures },
            'Many failed SASL logins (password guessing).',
            '{{ $labels.instance }}: {{ $value | humanize }} failed SASL logins in the last %s (threshold %s).'
            % [winText, n.saslBruteForceFailures],
          ),

          alert(
            'PostfixSASLBackendUnavailable', 'critical', c.saslBackendUnavailableFor,
            |||
              sum by (%(hostService)s) (
                increase(%(errors)s[%(w)s])
                or
                increase(%(failures)s[%(w)s])
              )
              > 0
            ||| % {
              hostService: q.hostAnd(['service']),
              errors: q.m('postfix_smtpd_sasl_backend_errors_total'),
              failures: q.m('postfix_smtpd_sasl_authentication_failures_total', 'reason="backend_unavailable"'),
              w: win,
            },
            'smtpd cannot reach its SASL backend; users cannot log in.',
            '{{ $labels.instance }}: {{ $value | humanize }} SASL backend errors or backend_unavailable failures on service {{ $labels.service }} in the last %s.'
            % winText,
          ),

          // `A unless B and C` is `(A unless B) and C`: failed attempts, no
          // success in the same 15 minutes, and enough successes the hour
          // before. Attempts refused before the backend do not count.
          alert(
            'PostfixSASLLoginsAllFailing', 'critical', c.saslLoginsAllFailingFor,
            |||
              sum by (%(host)s) (
                increase(%(failures)s[15m])
              ) > 0
              unless on (%(host)s)
              sum by (%(host)s) (
                increase(%(successes)s[15m])
              ) > 0
              and on (%(host)s)
              sum by (%(host)s) (
                increase(%(successes)s[1h] offset 15m)
              )
              >= on (%(host)s) group_left ()
              %(threshold)s
            ||| % {
              host: q.host,
              failures: q.m('postfix_smtpd_sasl_authentication_failures_total', 'reason!~"%s"' % refusedEarly),
              successes: q.m('postfix_smtpd_sasl_authentication_successes_total'),
              threshold: n.saslMinSuccessesPerHour,
            },
            'SASL logins keep failing and none succeeds any more.',
            '{{ $labels.instance }}: {{ $value | humanize }} failed SASL logins and not one successful login in the last 15 minutes, after a normal hour of successful logins.',
          ),

          alert(
            'PostfixSASLFailuresDuringConcurrencyPeak', 'warning', c.saslConcurrencyPeakFor,
            |||
              sum by (%(hostService)s) (
                increase(%(failures)s[%(w)s])
              ) > 0
              and on (%(hostService)s)
              (
                %(peak)s{service=~"%(svc)s"}
                >= on (%(host)s) group_left ()
                %(workers)s
              )
            ||| % {
              host: q.host,
              hostService: q.hostAnd(['service']),
              failures: q.m('postfix_smtpd_sasl_authentication_failures_total',
                            'service=~"%s",reason!~"%s"' % [c.submissionServiceRegex, refusedEarly]),
              w: win,
              peak: n.sessionsMax,
              svc: c.submissionServiceRegex,
              workers: n.saslauthdWorkers,
            },
            'SASL logins fail while concurrent sessions exhaust the SASL worker pool.',
            '{{ $labels.instance }}: {{ $value | humanize }} failed SASL logins in the last %s on {{ $labels.service }} while its concurrent sessions reached %s.'
            % [winText, n.saslauthdWorkers],
          ),

          alert(
            'PostfixRelayDenialsSpike', 'warning', c.relayDenialsSpikeFor,
            |||
              sum by (%(host)s) (%(rate)s) * %(secs)d
              > on (%(host)s) group_left ()
              %(threshold)s
            ||| % { host: q.host, rate: n.relayDeniedRate, secs: winSeconds, threshold: n.relayDeniedRejects },
            'Many "Relay access denied" rejects (open-relay probing or a misconfigured client).',
            '{{ $labels.instance }}: {{ $value | humanize }} relay denials in the last %s (threshold %s).'
            % [winText, n.relayDeniedRejects],
          ),

          alert(
            'PostfixSASLAuthUnavailable', 'warning', c.saslAuthUnavailableFor,
            |||
              sum by (%(hostService)s) (
                increase(%(failures)s[15m])
              )
              > on (%(host)s) group_left ()
              %(threshold)s
            ||| % {
              host: q.host,
              hostService: q.hostAnd(['service']),
              failures: q.m('postfix_smtpd_sasl_authentication_failures_total', 'reason="auth_unavailable"'),
              threshold: n.saslAuthUnavailablePer15m,
            },
            'Clients try AUTH where smtpd refuses it before asking the backend (no STARTTLS?).',
            '{{ $labels.instance }}: {{ $value | humanize }} AUTH attempts in the last 15 minutes on {{ $labels.service }} were refused before the SASL backend (TLS required, AUTH not offered, or AUTH before EHLO).',
          ),

          alert(
            'PostfixSMTPDSessionsNearProcessLimit', 'warning', c.smtpdSessionsNearProcessLimitFor,
            |||
              max by (%(hostService)s) (%(sessions)s)
              >= on (%(host)s) group_left ()
              %(threshold)s
            ||| % {
              host: q.host,
              hostService: q.hostAnd(['service']),
              sessions: q.m('postfix_smtpd_sessions_max'),
              threshold: n.smtpdSessionsNearProcessLimit,
            },
            "Concurrent smtpd sessions are close to the service's process limit.",
            '{{ $labels.instance }}: {{ $value | humanize }} concurrent sessions on {{ $labels.service }} in the last minute (threshold %s).'
            % n.smtpdSessionsNearProcessLimit,
          ),

          // master logs this at most once per 1000 s per service, hence 20m.
          // The first branch counts a series that the exporter created at its
          // first warning with its whole value (increase() cannot see a
          // series' first value); `+ 0` drops its name so that a series in
          // both branches is one alert, not two with the same labels.
          alert(
            'PostfixMasterProcessLimitReached', 'warning', c.masterProcessLimitReachedFor,
            |||
              (
                %(m)s > 0
                unless
                %(m)s offset 20m
              ) + 0
              or
              increase(%(m)s[20m]) > 0
            ||| % { m: q.m('postfix_master_process_limit_reached_total') },
            'Postfix master reports a service at its process limit.',
            '{{ $labels.instance }}: master reported {{ $value | humanize }} time(s) in the last 20 minutes that service {{ $labels.service }} reached its process limit; new clients wait.',
          ),

          // Legitimate clients turned away: smtpd answered `421 4.7.0 Error:
          // too many connections` because one client had more concurrent
          // sessions than smtpd_client_connection_count_limit.
          alert(
            'PostfixSMTPDConnectionCountLimitExceeded', 'warning', c.smtpdConnectionCountLimitFor,
            |||
              sum by (%(hostService)s) %(increase)s
              > on (%(host)s) group_left ()
              %(threshold)s
            ||| % {
              host: q.host,
              hostService: q.hostAnd(['service']),
              increase: increaseWithNewSeries('postfix_smtpd_client_limit_exceeded_total', 'limit="connection_count"', '15m'),
              threshold: n.smtpdConnectionCountLimitPer15m,
            },
            'smtpd turns clients away at the per-client connection count limit.',
            '{{ $labels.instance }}: {{ $value | humanize }} connections refused on {{ $labels.service }} in the last 15 minutes because a client exceeded smtpd_client_connection_count_limit (threshold %s).'
            % n.smtpdConnectionCountLimitPer15m,
          ),

          // Postfix's smtp client fails SASL AUTH at a relay host: outgoing
          // mail through it stays deferred until the credentials are fixed.
          alert(
            'PostfixSMTPRelayCredentialsRejected', 'critical', c.smtpRelayCredentialsRejectedFor,
            |||
              sum by (%(hostService)s) %(increase)s
              > on (%(host)s) group_left ()
              %(threshold)s
            ||| % {
              host: q.host,
              hostService: q.hostAnd(['service']),
              increase: increaseWithNewSeries('postfix_smtp_sasl_authentication_failures_total', '', '15m'),
              threshold: n.smtpSaslFailuresPer15m,
            },
            "The relay host rejects the credentials of Postfix's smtp client; outgoing mail is deferred.",
            '{{ $labels.instance }}: {{ $value | humanize }} SASL authentication failures of the {{ $labels.service }} client at its relay host in the last 15 minutes (threshold %s).'
            % n.smtpSaslFailuresPer15m,
          ),

          alert(
            'PostfixExporterDown', 'warning', c.exporterDownFor,
            '%s == 0' % q.m('up'),
            'Prometheus cannot scrape postfix-sasl-exporter.',
            '{{ $labels.instance }} (job {{ $labels.job }}) has been down for %s (up = {{ $value | humanize }}); Postfix is not monitored.'
            % q.humanDuration(c.exporterDownFor),
          ),

          alert(
            'PostfixExporterSourceDown', 'warning', c.exporterSourceDownFor,
            '%s == 0' % q.m('postfix_exporter_source_up'),
            'postfix-sasl-exporter cannot read its log source.',
            '{{ $labels.instance }}: the log file or journal is not open (postfix_exporter_source_up = {{ $value | humanize }}); no Postfix event is counted.',
          ),

          // Age of the newest line, counted from the exporter's start when it
          // has read nothing newer since (a fresh start at the end of a quiet log).
          alert(
            'PostfixLogStale', 'warning', c.logStaleFor,
            |||
              time()
              - (
                %(last)s > %(start)s
                or
                %(start)s
              )
              > on (%(host)s) group_left ()
              %(threshold)s
            ||| % {
              host: q.host,
              last: q.m('postfix_exporter_log_last_timestamp_seconds'),
              start: q.m('process_start_time_seconds'),
              threshold: n.logStaleSeconds,
            },
            'No new Postfix log line for a long time although the exporter is up.',
            '{{ $labels.instance }}: no new Postfix log line for {{ $value | humanizeDuration }} ({{ $value | humanize }} s); the log source may be stuck or rotated away, or Postfix stopped logging.',
          ),

          alert(
            'PostfixSMTPDUnrecognizedLines', 'warning', c.smtpdUnrecognizedLinesFor,
            |||
              sum by (%(host)s) (
                increase(%(m)s[15m])
              )
              > on (%(host)s) group_left ()
              %(threshold)s
            ||| % {
              host: q.host,
              m: q.m('postfix_exporter_smtpd_lines_unrecognized_total'),
              threshold: n.smtpdUnrecognizedLinesPer15m,
            },
            'Many smtpd log lines are not understood (log format changed?).',
            '{{ $labels.instance }}: {{ $value | humanize }} smtpd lines in the last 15 minutes matched no parser; metrics may be undercounted.',
          ),
        ] + $.mailFlowAlertRules + $.triageAlertRules,
      },
    ],
  },
}
