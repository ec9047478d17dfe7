// mailFlowAlertRules: delivery and queue alerts (issue 14), appended to the
// alert group of alerts.libsonnet. They read the delivery families
// (postfix_delivery_status_total, postfix_delivery_delay_seconds) and, for
// the queue, the showq histograms (--postfix.showq_path); without them they
// have no series and stay silent. Tests: dashboards/tests/mail_flow.test.yml.
{
  local c = $._config,
  local q = (import 'lib/promql.libsonnet')(c),
  local n = $.recordNames,
  local alert = q.alert,

  mailFlowAlertRules:: [
    // A queue (deferred, usually) grows: mail comes in faster than it
    // leaves. delta() of the recorded queue size, per queue.
    alert(
      'PostfixQueueGrowing', 'warning', c.queueGrowingFor,
      |||
        delta(%(queue)s[1h])
        > on (%(host)s) group_left ()
        %(threshold)s
      ||| % { host: q.host, queue: n.queueMessages, threshold: n.queueGrowthMessagesPer1h },
      'A Postfix mail queue keeps growing.',
      '{{ $labels.instance }}: the {{ $labels.queue }} queue holds {{ $value | humanize }} messages more than an hour ago (threshold %s).'
      % n.queueGrowthMessagesPer1h,
    ),

    // Deferred / all results of one transport in 15 minutes, once the
    // transport has enough results to judge (address verification probes,
    // status=undeliverable, are not deliveries).
    alert(
      'PostfixDeferredRatioHigh', 'warning', c.deferredRatioHighFor,
      |||
        sum by (%(hostTransport)s) (%(status)s{status="deferred"})
        /
        (
          sum by (%(hostTransport)s) (%(status)s{status!="undeliverable"})
          >= on (%(host)s) group_left ()
          %(min)s
        )
        > on (%(host)s) group_left ()
        %(threshold)s
      ||| % {
        host: q.host,
        hostTransport: q.hostAnd(['transport']),
        status: n.deliveryStatus15m,
        min: n.deliveryMinPer15m,
        threshold: n.deferredRatio,
      },
      'A large share of deliveries is deferred.',
      '{{ $labels.instance }}: {{ $value | humanizePercentage }} of the delivery results of transport {{ $labels.transport }} in the last 15 minutes were deferred (threshold %s, at least %s results).'
      % [n.deferredRatio, n.deliveryMinPer15m],
    ),

    alert(
      'PostfixBounceSpike', 'warning', c.bounceSpikeFor,
      |||
        sum by (%(host)s) (%(status)s{status="bounced"})
        > on (%(host)s) group_left ()
        %(threshold)s
      ||| % { host: q.host, status: n.deliveryStatus15m, threshold: n.bouncedPer15m },
      'Many recipients bounced (permanent delivery failures).',
      '{{ $labels.instance }}: {{ $value | humanize }} recipients bounced in the last 15 minutes (threshold %s).'
      % n.bouncedPer15m,
    ),

    // The 95th percentile of each delay stage (delays=a/b/c/d: before the
    // queue manager, in it, connection setup, transmission) of a transport,
    // over 15 minutes, once it has enough delivery attempts to judge.
    alert(
      'PostfixDeliveryDelayHigh', 'warning', c.deliveryDelayHighFor,
      |||
        (
          histogram_quantile(0.95,
            sum by (%(hostTransport)s, stage, le) (
              rate(%(bucket)s[15m])
            )
          )
          > on (%(host)s) group_left ()
          %(threshold)s
        )
        and on (%(hostTransport)s, stage)
        (
          sum by (%(hostTransport)s, stage) (
            increase(%(count)s[15m])
          )
          >= on (%(host)s) group_left ()
          %(min)s
        )
      ||| % {
        host: q.host,
        hostTransport: q.hostAnd(['transport']),
        bucket: q.m('postfix_delivery_delay_seconds_bucket'),
        count: q.m('postfix_delivery_delay_seconds_count'),
        threshold: n.deliveryDelayP95Seconds,
        min: n.deliveryMinPer15m,
      },
      'Mail waits long before it is delivered.',
      '{{ $labels.instance }}: the 95th percentile of the {{ $labels.stage }} delay of transport {{ $labels.transport }} is {{ $value | humanizeDuration }} ({{ $value | humanize }} s) over the last 15 minutes (threshold %s).'
      % n.deliveryDelayP95Seconds,
    ),
  ],
}
