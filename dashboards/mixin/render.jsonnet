// Renders the mixin into the files generate.sh writes (jsonnet -S -m DIR):
// one Prometheus rule file with the rule groups before the alerts (promtool
// tests fix that group order) and one JSON file per dashboard.
// `overrides` (--ext-code-file) is merged over the mixin, e.g. a _config.
local mixin = (import 'mixin.libsonnet') + std.extVar('overrides');

local header = |||
  # Generated from dashboards/mixin/ by dashboards/mixin/generate.sh: do not
  # edit. Change the mixin's _config (thresholds, for: durations, selector,
  # runbook URLs; see docs/runbook.md "Tuning") and regenerate.
  #
  # Load with `rule_files:` in prometheus.yml or through the Helm chart's
  # PrometheusRule. Groups: postfix-sasl-exporter-config holds one series per
  # scraped exporter for every threshold (alerts join them on job and
  # instance, dashboards draw them); postfix-sasl-exporter-recording the
  # shared rates; postfix-sasl-exporter-alerts the alerts, each with a
  # runbook_url to its section of docs/runbook/<page>.md.
|||;

{
  'postfix-sasl-exporter-rules.yml':
    header + std.manifestYamlDoc(
      { groups: mixin.prometheusRules.groups + mixin.prometheusAlerts.groups },
      indent_array_in_object=true,
      quote_keys=false,
    ),
}
+ {
  [name]: std.manifestJsonEx(mixin.grafanaDashboards[name], '  ')
  for name in std.objectFields(mixin.grafanaDashboards)
}
