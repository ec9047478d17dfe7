// The overview's "Attack triage" row: who is failing to log in. Call with
// the mixin's _config and recordNames; returns [[panel, width, height], ...]
// for grafana.layout(). The accounts-at-risk table reads the opt-in
// per-account families and is empty (No data) while they are disabled.
function(c, n)
  local g = import '../lib/grafana.libsonnet';
  local q = (import '../lib/promql.libsonnet')(c);
  local d = q.d;
  local by = q.dashBy;
  local t(expr, legend) = g.target(expr, q.legend(legend));
  local rate(metric, extra='') = 'rate(%s[$__rate_interval])' % d(metric, extra);
  local top(expr) = 'sort_desc(topk(%d, %s))' % [c.triageTopK, expr];
  local byAccount = by(['instance', 'username']);
  local onAccount = std.strReplace(byAccount, 'by (', 'on (');
  // The accounts with the most client addresses; the other columns are
  // limited to them.
  local atRisk = top('max %s (%s)' % [byAccount, d('postfix_smtpd_sasl_username_clients', 'username!="other"')]);
  [
    [g.table('Top failing networks',
             'The client networks (CIDR prefixes, --triage.client_prefix_v4/_v6) with the most failed SASL logins per minute now, at most %d; "other" (every network outside the exporter\'s top list) is left out. PostfixSASLBruteForceSingleSource fires at %s failures per minute over 10 minutes.' % [c.triageTopK, n.saslSingleSourceFailuresPerMinute],
             'short',
             [t(top('sum %s (%s) * 60' % [by(['instance', 'client']), rate('postfix_smtpd_sasl_failures_by_client_total', 'client!="other"')]), '{{client}}')],
             columns={ client: 'network', Value: 'failures/min' }, sortBy='failures/min'), 8, 9],
    [g.timeseries('Failed logins per network',
                  'Failed SASL logins per minute of each top client network and of the rest ("other"), against the single-source threshold (%s, dashed). A few networks far above the rest: a single-source attack, block the prefix. Many small ones: see the distinct counts beside.' % n.saslSingleSourceFailuresPerMinute,
                  'short', [
                    t('sum %s (%s) * 60' % [by(['instance', 'client']), rate('postfix_smtpd_sasl_failures_by_client_total')], '{{instance}} {{client}}'),
                    t('max %s (%s)' % [by(['instance']), d(n.saslSingleSourceFailuresPerMinute)], 'single-source threshold {{instance}}'),
                  ], overrides=[g.dashedLine('single-source threshold .*', 'red')]), 8, 9],
    [g.timeseries('Distinct failing clients and user names',
                  'Distinct client addresses and distinct user names with a failed SASL login in the trailing --triage.window (1h) of log time (HyperLogLog estimates; user names are known from Postfix 3.9 on), against the distributed brute-force threshold (%s, dashed). Many clients, each below the single-source threshold: PostfixSASLBruteForceDistributed.' % n.saslDistributedFailingClients,
                  'short', [
                    t('max %s (%s)' % [by(['instance']), d('postfix_smtpd_sasl_failing_clients')], 'clients {{instance}}'),
                    t('max %s (%s)' % [by(['instance']), d('postfix_smtpd_sasl_failing_usernames')], 'user names {{instance}}'),
                    t('max %s (%s)' % [by(['instance']), d(n.saslDistributedFailingClients)], 'distributed threshold {{instance}}'),
                  ], overrides=[g.dashedLine('distributed threshold .*', 'red')]), 8, 9],
    [g.table('Accounts at risk',
             'Accounts (a keyed hash of the user name, never the name) that logged in successfully from the most distinct client addresses in the triage window, with their failed logins and queued messages per minute now. Empty unless per-account triage is enabled in the exporter. PostfixSASLAccountManyNetworks fires at %s addresses.' % n.saslAccountClients,
             'short', [
               t(atRisk, '{{username}}'),
               t('sum %s (%s) * 60 and %s %s' % [byAccount, rate('postfix_smtpd_sasl_failures_by_username_total', 'username!="other"'), onAccount, atRisk], '{{username}}'),
               t('sum %s (%s) * 60 and %s %s' % [byAccount, rate('postfix_smtpd_sasl_messages_by_username_total', 'username!="other"'), onAccount, atRisk], '{{username}}'),
             ],
             columns={ username: 'account', 'Value #A': 'client addresses', 'Value #B': 'failures/min', 'Value #C': 'messages/min' },
             sortBy='client addresses'), 24, 8],
  ]
