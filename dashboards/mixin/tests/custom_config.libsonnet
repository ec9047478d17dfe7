// A non-default configuration, rendered and tested by
// tests/dashboards/mixin_custom_config.sh: another selector, a longer rate
// window, other thresholds and for: durations, per-host overrides, other
// runbook URLs and multi-cluster mode.
{
  _config+:: {
    selector: 'job="mail"',
    showMultiCluster: true,
    clusterLabel: 'cluster',
    rateInterval: '10m',
    saslBruteForceFailures: 100,
    saslBruteForceFor: '2m',
    smtpdConnectionCountLimitPer15m: 3,
    smtpdConnectionCountLimitFor: '1m',
    saslSingleSourceFailuresPerMinute: 20,
    saslBruteForceSingleSourceFor: '2m',
    instanceOverrides: {
      saslauthdWorkers: [{ matchers: 'instance="mx2:9154"', value: 10 }],
      bouncedPer15m: [{ matchers: 'instance="relay:9154"', value: 100 }],
    },
    runbookURLPattern: 'https://wiki.example.org/postfix-runbook#%s',
  },
}
