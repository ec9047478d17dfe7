// postfix-sasl-exporter monitoring mixin: Prometheus rules and alerts and
// Grafana dashboards, configured through _config (see config.libsonnet).
//
//   local postfix = (import 'mixin.libsonnet') + { _config+:: { selector: 'job="mail"' } };
//   postfix.prometheusAlerts   // { groups: [...] }
//   postfix.prometheusRules    // { groups: [...] }
//   postfix.grafanaDashboards  // { 'file.json': dashboard, ... }
//
// Plain jsonnet (no libraries to fetch); generate.sh renders it.
(import 'config.libsonnet')
+ (import 'rules.libsonnet')
+ (import 'alerts.libsonnet')
+ (import 'alerts_mailflow.libsonnet')
+ (import 'alerts_triage.libsonnet')
+ (import 'dashboards/overview.libsonnet')
+ (import 'dashboards/fleet.libsonnet')
+ (import 'dashboards/mailflow.libsonnet')
