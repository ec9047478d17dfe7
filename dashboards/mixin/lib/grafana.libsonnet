// A small builder for classic Grafana dashboard JSON (schemaVersion 36),
// just what the postfix-sasl-exporter dashboards use. Every panel reads the
// `datasource` variable; layout() assigns ids and grid positions.
{
  local g = self,
  datasource:: { type: 'prometheus', uid: '${datasource}' },

  target(expr, legend, instant=false):: {
    datasource: g.datasource,
    editorMode: 'code',
    expr: expr,
    legendFormat: legend,
    range: !instant,
    instant: instant,
  },

  thresholds(steps):: {
    mode: 'absolute',
    steps: [{ color: s[0], value: s[1] } for s in steps],
  },

  // A dashed, unfilled, fixed-colour line for series whose legend matches.
  dashedLine(regex, color):: {
    matcher: { id: 'byRegexp', options: regex },
    properties: [
      { id: 'custom.lineStyle', value: { fill: 'dash', dash: [10, 10] } },
      { id: 'custom.fillOpacity', value: 0 },
      { id: 'color', value: { mode: 'fixed', fixedColor: color } },
    ],
  },

  local panel(type, title, description, unit, targets) = {
    type: type,
    title: title,
    description: description,
    datasource: g.datasource,
    targets: [
      targets[i] { refId: std.char(std.codepoint('A') + i) }
      for i in std.range(0, std.length(targets) - 1)
    ],
    fieldConfig: { defaults: { unit: unit }, overrides: [] },
  },

  stat(title, description, unit, targets, steps=[['green', null]], mappings=[], textMode='auto'):: panel('stat', title, description, unit, targets) {
    fieldConfig+: { defaults+: { mappings: mappings, thresholds: g.thresholds(steps) } },
    options: {
      reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
      colorMode: 'value',
      graphMode: 'area',
      justifyMode: 'auto',
      orientation: 'auto',
      textMode: textMode,
    },
  },

  timeseries(title, description, unit, targets, stacked=false, overrides=[], min=null, max=null):: panel('timeseries', title, description, unit, targets) {
    fieldConfig+: {
      defaults+: {
        custom: {
          drawStyle: 'line',
          lineWidth: 1,
          fillOpacity: 10,
          showPoints: 'never',
          spanNulls: false,
          stacking: { mode: if stacked then 'normal' else 'none', group: 'A' },
        },
      } + (if min == null then {} else { min: min }) + (if max == null then {} else { max: max }),
      overrides: overrides,
    },
    options: {
      legend: { displayMode: 'table', placement: 'bottom', showLegend: true, calcs: ['mean', 'max', 'lastNotNull'] },
      tooltip: { mode: 'multi', sort: 'desc' },
    },
  },

  // Horizontal bars of an instant query, one per series, with data links.
  bargauge(title, description, unit, targets, links=[], steps=[['green', null]], max=null):: panel('bargauge', title, description, unit, targets) {
    fieldConfig+: {
      defaults+: { min: 0, links: links, thresholds: g.thresholds(steps) } + (if max == null then {} else { max: max }),
    },
    options: {
      reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
      orientation: 'horizontal',
      displayMode: 'gradient',
      showUnfilled: true,
    },
  },

  // A table of instant queries (format table), one row per label set; with
  // several queries their Value columns are merged on the labels. `columns`
  // renames fields ({ 'Value #A': 'failures/min' }); job and Time are hidden.
  // An empty result is an empty table (Grafana shows "No data").
  table(title, description, unit, targets, columns={}, sortBy=''):: panel('table', title, description, unit, [
    t { format: 'table', instant: true, range: false }
    for t in targets
  ]) {
    options: {
      showHeader: true,
      cellHeight: 'sm',
      footer: { show: false, reducer: ['sum'], fields: '' },
      sortBy: if sortBy == '' then [] else [{ displayName: sortBy, desc: true }],
    },
    transformations: (if std.length(targets) > 1 then [{ id: 'merge', options: {} }] else []) + [
      { id: 'organize', options: { excludeByName: { Time: true, job: true }, renameByName: columns } },
    ],
  },

  row(title):: { type: 'row', title: title, collapsed: false, panels: [] },

  // sections: [[row title, [[panel, width, height], ...]], ...]. Panels fill
  // rows of 24 columns left to right; ids follow the order of appearance.
  layout(sections)::
    local place(acc, item) =
      local p = item[0], w = item[1], h = item[2];
      if p.type == 'row' then
        local y = acc.y + acc.rowH;
        acc {
          panels+: [p { id: std.length(acc.panels) + 1, gridPos: { x: 0, y: y, w: 24, h: 1 } }],
          x: 0,
          y: y + 1,
          rowH: 0,
        }
      else
        local wrap = acc.x + w > 24;
        local x = if wrap then 0 else acc.x;
        local y = if wrap then acc.y + acc.rowH else acc.y;
        acc {
          panels+: [p { id: std.length(acc.panels) + 1, gridPos: { x: x, y: y, w: w, h: h } }],
          x: x + w,
          y: y,
          rowH: if wrap then h else std.max(acc.rowH, h),
        };
    local items = std.flattenArrays([[[g.row(s[0]), 24, 1]] + s[1] for s in sections]);
    std.foldl(place, items, { panels: [], x: 0, y: 0, rowH: 0 }).panels,

  datasourceVariable:: {
    name: 'datasource',
    label: 'Data source',
    type: 'datasource',
    query: 'prometheus',
    current: {},
    hide: 0,
    includeAll: false,
    multi: false,
    options: [],
    refresh: 1,
    regex: '',
    skipUrlSync: false,
  },

  // A multi-select label_values() variable, refreshed on time range change.
  queryVariable(name, label, query):: {
    name: name,
    label: label,
    type: 'query',
    datasource: g.datasource,
    definition: query,
    query: { query: query, refId: 'PrometheusVariableQueryEditor-VariableQuery' },
    current: {},
    hide: 0,
    includeAll: true,
    allValue: '.+',
    multi: true,
    options: [],
    refresh: 2,
    regex: '',
    skipUrlSync: false,
    sort: 1,
  },

  link(title, url, tooltip, icon='dashboard', keepVars=true):: {
    title: title,
    type: 'link',
    icon: icon,
    tooltip: tooltip,
    url: url,
    targetBlank: !keepVars,
    keepTime: keepVars,
    includeVars: keepVars,
  },

  dashboard(uid, title, description, tags, refresh, timeFrom, variables, panels, links):: {
    uid: uid,
    id: null,
    title: title,
    description: description,
    tags: tags,
    timezone: '',
    editable: true,
    graphTooltip: 1,
    schemaVersion: 36,
    version: 1,
    refresh: refresh,
    time: { from: timeFrom, to: 'now' },
    timepicker: {},
    fiscalYearStartMonth: 0,
    liveNow: false,
    weekStart: '',
    links: links,
    annotations: {
      list: [{
        builtIn: 1,
        datasource: { type: 'grafana', uid: '-- Grafana --' },
        enable: true,
        hide: true,
        iconColor: 'rgba(0, 211, 255, 1)',
        name: 'Annotations & Alerts',
        type: 'dashboard',
      }],
    },
    templating: { list: variables },
    panels: panels,
  },
}
