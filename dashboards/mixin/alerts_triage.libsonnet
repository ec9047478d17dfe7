// triageAlertRules: who is attacking (issue 16), appended to the alert group
// of alerts.libsonnet. They read the triage families:
// postfix_smtpd_sasl_failures_by_client_total{client} (top failing networks
// as CIDR prefixes, plus "other"), postfix_smtpd_sasl_failing_clients (a
// distinct count over --triage.window) and, when per-account triage is
// enabled, postfix_smtpd_sasl_username_clients{username} (a keyed hash, never
// the name). Tests: dashboards/tests/sasl_triage.test.yml.
{
  local c = $._config,
  local q = (import 'lib/promql.libsonnet')(c),
  local n = $.recordNames,
  local alert = q.alert,

  triageAlertRules:: [
    // One network guesses passwords fast (the known attack: ~150 failures a
    // minute from a few addresses). The alert names the prefix, the thing
    // to block.
    alert(
      'PostfixSASLBruteForceSingleSource', 'warning', c.saslBruteForceSingleSourceFor,
      |||
        %(rate)s * 60
        >= on (%(host)s) group_left ()
        %(threshold)s
      ||| % { host: q.host, rate: n.failuresByClientRate, threshold: n.saslSingleSourceFailuresPerMinute },
      'One client network is guessing SASL passwords.',
      '{{ $labels.instance }}: {{ $value | humanize }} failed SASL logins per minute from {{ $labels.client }} over the last 10 minutes (threshold %s).'
      % n.saslSingleSourceFailuresPerMinute,
    ),

    // Many distinct addresses fail while no network reaches the single-source
    // threshold: a botnet spreading its guesses below per-source limits
    // (fail2ban, smtpd_client_auth_rate_limit).
    alert(
      'PostfixSASLBruteForceDistributed', 'warning', c.saslBruteForceDistributedFor,
      |||
        max by (%(host)s) (%(clients)s)
        >= on (%(host)s) group_left ()
        %(threshold)s
        unless on (%(host)s)
        (
          %(rate)s * 60
          >= on (%(host)s) group_left ()
          %(single)s
        )
      ||| % {
        host: q.host,
        clients: q.m('postfix_smtpd_sasl_failing_clients'),
        threshold: n.saslDistributedFailingClients,
        rate: n.failuresByClientRate,
        single: n.saslSingleSourceFailuresPerMinute,
      },
      'Many distinct clients are guessing SASL passwords, each below the single-source threshold.',
      '{{ $labels.instance }}: {{ $value | humanize }} distinct client addresses failed SASL logins in the triage window (threshold %s), and no client network reaches %s failures per minute: a distributed attack that per-source limits do not stop.'
      % [n.saslDistributedFailingClients, n.saslSingleSourceFailuresPerMinute],
    ),

    // One account logs in from unusually many addresses: its password is
    // probably known to a spammer (opt-in per-account triage).
    alert(
      'PostfixSASLAccountManyNetworks', 'warning', c.saslAccountManyNetworksFor,
      |||
        max by (%(hostUser)s) (%(clients)s)
        >= on (%(host)s) group_left ()
        %(threshold)s
      ||| % {
        host: q.host,
        hostUser: q.hostAnd(['username']),
        clients: q.m('postfix_smtpd_sasl_username_clients', 'username!="other"'),
        threshold: n.saslAccountClients,
      },
      'One account logs in from unusually many client addresses (leaked password?).',
      '{{ $labels.instance }}: account {{ $labels.username }} logged in successfully from {{ $value | humanize }} distinct client addresses in the triage window (threshold %s).'
      % n.saslAccountClients,
    ),
  ],
}
