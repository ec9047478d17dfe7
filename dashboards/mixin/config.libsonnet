// Defaults of the postfix-sasl-exporter mixin. Override any of them with
//   (import 'mixin.libsonnet') + { _config+:: { saslauthdWorkers: 10 } }
// generate.sh renders the shipped files in dashboards/ from these defaults;
// docs/runbook.md ("Tuning") explains each value.
{
  _config+:: {
    // Label matchers that select this exporter's series, applied to every
    // series the rules read (and to `up` for PostfixExporterDown). The
    // default matches `job_name: postfix` and the Helm chart's ServiceMonitor
    // job `<release>-postfix-sasl-exporter`.
    selector: 'job=~".*postfix.*"',

    // Multi-cluster mode: rules group by clusterLabel as well as job and
    // instance, and dashboards get a cluster variable.
    showMultiCluster: false,
    clusterLabel: 'cluster',

    // Window of the shared rate recording rules and of the alerts built on
    // them (brute force, relay denials, backend errors, concurrency peak).
    // Recording rule names carry it (postfix:...:rate5m).
    rateInterval: '5m',

    // saslauthd -n (Debian THREADS default 5); for Dovecot SASL, the auth
    // service's limit on concurrent authentications.
    saslauthdWorkers: 5,

    // Services whose AUTH failures during a session peak point at the SASL
    // worker pool (port 25 is left out on purpose).
    submissionServiceRegex: '.*(submission|smtps).*',

    // Failure reasons for AUTH attempts that smtpd refused before asking the
    // backend: they say nothing about the backend or its worker pool.
    reasonsRefusedBeforeBackend: ['auth_unavailable', 'rate_limited'],

    // Each alert's runbook_url. %(page)s is the alert's runbookPages entry
    // (its page docs/runbook/<page>.md), %(anchor)s the alert name in lower
    // case (its section's anchor). A pattern with a single %s instead (and no
    // %(...)s) gets only the anchor: a runbook served as one page.
    runbookURLPattern: 'https://github.com/postfix-sasl-exporter/postfix-sasl-exporter/blob/main/docs/runbook/%(page)s.md#%(anchor)s',
    // The runbook page (area) of each alert; every alert must have one.
    runbookPages: {
      PostfixSASLBruteForce: 'sasl',
      PostfixSASLBackendUnavailable: 'sasl',
      PostfixSASLLoginsAllFailing: 'sasl',
      PostfixSASLFailuresDuringConcurrencyPeak: 'sasl',
      PostfixSASLAuthUnavailable: 'sasl',
      PostfixSMTPRelayCredentialsRejected: 'sasl',
      PostfixRelayDenialsSpike: 'smtpd',
      PostfixSMTPDSessionsNearProcessLimit: 'smtpd',
      PostfixMasterProcessLimitReached: 'smtpd',
      PostfixSMTPDConnectionCountLimitExceeded: 'smtpd',
      PostfixExporterDown: 'exporter',
      PostfixExporterSourceDown: 'exporter',
      PostfixLogStale: 'exporter',
      PostfixSMTPDUnrecognizedLines: 'exporter',
      PostfixQueueGrowing: 'mailflow',
      PostfixDeferredRatioHigh: 'mailflow',
      PostfixBounceSpike: 'mailflow',
      PostfixDeliveryDelayHigh: 'mailflow',
      PostfixSASLBruteForceSingleSource: 'triage',
      PostfixSASLBruteForceDistributed: 'triage',
      PostfixSASLAccountManyNetworks: 'triage',
    },

    // Thresholds. Each becomes a recording rule (one series per scraped
    // exporter) that the alerts join and the dashboards draw.
    saslBruteForceFailures: 60,  // failed logins per rateInterval and host
    saslMinSuccessesPerHour: 20,  // PostfixSASLLoginsAllFailing watches busier hosts only
    relayDeniedRejects: 30,  // relay denials per rateInterval and host
    saslAuthUnavailablePer15m: 15,  // per service
    smtpdSessionsNearProcessLimit: 80,  // 80% of default_process_limit
    logStaleSeconds: 3600,
    smtpdUnrecognizedLinesPer15m: 15,  // per host
    smtpdConnectionCountLimitPer15m: 10,  // connections refused per service
    smtpSaslFailuresPer15m: 2,  // smtp client AUTH failures at a relay, per service
    // Delivery and queue (issue 14).
    queueGrowthMessagesPer1h: 100,  // messages more in one queue than an hour ago
    deferredRatio: 0.25,  // deferred / all delivery results of a transport in 15m
    deliveryMinPer15m: 20,  // below this many results (or delay samples) a transport is not judged
    bouncedPer15m: 20,  // bounced recipients per host
    deliveryDelayP95Seconds: 900,  // p95 of any delay stage of a transport
    // Attack triage (issue 16; postfix_smtpd_sasl_failures_by_client_total
    // and friends). The single-source threshold is per client network.
    saslSingleSourceFailuresPerMinute: 10,  // over 10 minutes
    saslDistributedFailingClients: 100,  // distinct failing addresses in --triage.window
    saslAccountClients: 10,  // distinct addresses logged in as one user in --triage.window

    // Per-host exceptions to the values above, by key, e.g.
    //   instanceOverrides: { saslauthdWorkers: [{ matchers: 'instance="mx2:9154"', value: 10 }] }
    instanceOverrides: {},

    // `for:` durations (null: fire at the first evaluation).
    saslBruteForceFor: '5m',
    saslBackendUnavailableFor: '5m',
    saslLoginsAllFailingFor: '10m',
    saslConcurrencyPeakFor: '2m',
    relayDenialsSpikeFor: '5m',
    saslAuthUnavailableFor: '15m',
    smtpdSessionsNearProcessLimitFor: '10m',
    masterProcessLimitReachedFor: null,
    exporterDownFor: '5m',
    exporterSourceDownFor: '5m',
    logStaleFor: '5m',
    smtpdUnrecognizedLinesFor: '15m',
    smtpdConnectionCountLimitFor: '5m',
    smtpRelayCredentialsRejectedFor: '5m',
    queueGrowingFor: '15m',
    deferredRatioHighFor: '15m',
    bounceSpikeFor: '5m',
    deliveryDelayHighFor: '15m',
    saslBruteForceSingleSourceFor: '5m',
    saslBruteForceDistributedFor: '15m',
    saslAccountManyNetworksFor: '5m',

    // Dashboards.
    dashboardTags: ['postfix', 'sasl', 'mail'],
    dashboardRefresh: '30s',
    dashboardTimeFrom: 'now-6h',
    overviewUID: 'postfix-sasl-overview',
    fleetUID: 'postfix-sasl-fleet',
    mailFlowUID: 'postfix-mail-flow',
    triageTopK: 10,  // rows of the top failing networks and accounts at risk tables
    fleetTopK: 10,
    runbookURL: 'https://github.com/postfix-sasl-exporter/postfix-sasl-exporter/blob/main/docs/runbook.md',
  },
}
