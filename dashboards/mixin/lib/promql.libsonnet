// PromQL text helpers shared by the rules and the dashboards. Call with the
// mixin's _config: `local q = (import 'lib/promql.libsonnet')($._config);`.
function(c) {
  local q = self,

  // Labels that identify one scraped exporter; grouping and joins use them.
  hostLabels:: (if c.showMultiCluster then [c.clusterLabel] else []) + ['job', 'instance'],
  host:: std.join(', ', q.hostLabels),
  // `host` plus more labels, e.g. q.hostAnd(['service']) = "job, instance, service".
  hostAnd(labels):: std.join(', ', q.hostLabels + labels),

  // metric{<selector>,<extra matchers>}; a bare name when both are empty.
  m(name, extra=''):: (
    local parts = std.filter(function(s) s != '', [c.selector, extra]);
    if parts == [] then name else name + '{' + std.join(',', parts) + '}'
  ),

  // Alternation regex of a list of label values.
  anyOf(values):: std.join('|', values),

  // Increments of a counter in `window`, including those of a series born
  // inside the window: increase() cannot see a series' first value, so a
  // series without a sample `window` ago counts with its whole value. `+ 0`
  // drops the metric name so that `or` sees one label set per series.
  increaseWithNewSeries(metric, matchers, window):: |||
    (
      (%(m)s unless %(m)s offset %(w)s) + 0
      or
      increase(%(m)s[%(w)s])
    )
  ||| % { m: q.m(metric, matchers), w: window },

  // runbook_url of alert `name`: c.runbookURLPattern with its page
  // (c.runbookPages) and anchor (lower-case name), or, for a one-page
  // pattern with a single %s, the anchor only.
  runbookURLFor(name):: (
    local anchor = std.asciiLower(name);
    if std.length(std.findSubstr('%(', c.runbookURLPattern)) == 0 then
      c.runbookURLPattern % anchor
    else (
      assert std.objectHas(c.runbookPages, name) : 'alert %s has no runbookPages entry' % name;
      c.runbookURLPattern % { page: c.runbookPages[name], anchor: anchor }
    )
  ),

  // An alert with severity, summary, description and a runbook_url to its
  // section of docs/runbook/<page>.md (runbookURLFor above).
  alert(name, severity, forDuration, expr, summary, description):: {
    alert: name,
    expr: expr,
    labels: { severity: severity },
    annotations: {
      summary: summary,
      description: description,
      runbook_url: q.runbookURLFor(name),
    },
  } + (if forDuration == null then {} else { 'for': forDuration }),

  local units = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 },
  local names = { s: 'second', m: 'minute', h: 'hour', d: 'day', w: 'week' },
  local split(d) = {
    unit: d[std.length(d) - 1],
    n: std.parseInt(std.substr(d, 0, std.length(d) - 1)),
  },
  // '5m' -> 300. Only single-unit durations: they are what _config uses.
  seconds(d):: (
    local p = split(d);
    assert std.objectHas(units, p.unit) : 'duration %s: use one of s, m, h, d, w' % d;
    p.n * units[p.unit]
  ),
  // '5m' -> '5 minutes', '1h' -> '1 hour'.
  humanDuration(d):: (
    local p = split(d);
    '%d %s%s' % [p.n, names[p.unit], if p.n == 1 then '' else 's']
  ),

  // Dashboards: the variable filter every selector carries.
  dashFilter(extra=''):: (
    local vars = (if c.showMultiCluster then ['%s=~"$%s"' % [c.clusterLabel, c.clusterLabel]] else [])
                 + ['job=~"$job"', 'instance=~"$instance"'];
    std.join(',', vars + (if extra == '' then [] else [extra]))
  ),
  d(name, extra=''):: name + '{' + q.dashFilter(extra) + '}',
  // Dashboards group by instance (and cluster in multi-cluster mode).
  dashBy(labels):: 'by (' + std.join(', ', (if c.showMultiCluster then [c.clusterLabel] else []) + labels) + ')',
  legend(s):: if c.showMultiCluster then std.strReplace(s, '{{instance}}', '{{%s}} {{instance}}' % c.clusterLabel) else s,
}
