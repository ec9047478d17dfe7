// Template variables shared by the dashboards: datasource, cluster (in
// multi-cluster mode), job and instance, each filtered by the ones before.
function(c)
  local g = import '../lib/grafana.libsonnet';
  local q = (import '../lib/promql.libsonnet')(c);
  local info(matchers) = q.m('postfix_exporter_build_info', std.join(',', std.filter(function(s) s != '', matchers)));
  local clusterMatcher = if c.showMultiCluster then '%s=~"$%s"' % [c.clusterLabel, c.clusterLabel] else '';
  [g.datasourceVariable]
  + (if c.showMultiCluster then [g.queryVariable(c.clusterLabel, 'Cluster', 'label_values(%s, %s)' % [info([]), c.clusterLabel])] else [])
  + [
    g.queryVariable('job', 'Job', 'label_values(%s, job)' % info([clusterMatcher])),
    g.queryVariable('instance', 'Instance', 'label_values(%s, instance)' % info([clusterMatcher, 'job=~"$job"'])),
  ]
