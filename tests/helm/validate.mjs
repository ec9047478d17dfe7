// Renders the Helm chart with the real `helm` (v4, pinned through
// tests/helm/package-lock.json) and checks the result:
//   * the computed values against the chart's values.schema.json (ajv; helm
//     enforces the same schema, and --selfcheck proves it does);
//   * every rendered object against the Kubernetes / Prometheus-operator
//     schemas (kubernetes-models, @kubernetes-models/prometheus-operator);
//   * the shape users rely on: the exporter container (sidecar or native
//     sidecar) with the shared log volume mounted read-only, probes on
//     /-/healthy and /-/ready, the hardened security context, the flags of
//     the chosen source, Service/monitor selectors that find the pods, and
//     PrometheusRule specs / dashboard ConfigMaps equal to the files in
//     dashboards/ (read from disk here, so the test follows those files).
//
// Usage:
//   node validate.mjs --helm BIN --chart DIR --dashboards DIR --out DIR
//        --case NAME [--values FILE] [--subchart NAME]
//   node validate.mjs --helm BIN --chart DIR --out DIR --selfcheck
//
// --subchart NAME: the chart is a parent that includes our named templates;
// our values live under NAME.
//
// Modules: render.mjs (helm and its YAML), schemas.mjs (object and values
// schemas), pod_checks.mjs (the exporter's container and pod).
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";

import {
  DNS1123_SUBDOMAIN, EXPORTER, argValue, checkExporter, checkPostfixWriter, findExporter, labelsMatch, podSpecOf,
} from "./pod_checks.mjs";
import { createRenderer, yamlToObject } from "./render.mjs";
import { compileValuesSchema, validateObject } from "./schemas.mjs";

const CHART_NAME = "postfix-sasl-exporter";

const { values: opt } = parseArgs({
  options: {
    helm: { type: "string" },
    chart: { type: "string" },
    values: { type: "string" },
    dashboards: { type: "string" },
    out: { type: "string" },
    case: { type: "string", default: "default" },
    subchart: { type: "string" },
    selfcheck: { type: "boolean", default: false },
  },
});
for (const k of ["helm", "chart", "out"]) {
  if (!opt[k]) throw new Error(`--${k} is required`);
}
fs.mkdirSync(opt.out, { recursive: true });

const { render } = createRenderer(opt.helm, opt.out, opt.case);

// ---------------------------------------------------------------------------
// Self check: the checks above can fail.

function selfcheck() {
  // A schema violation is caught.
  assert.throws(() => validateObject({
    apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "x" },
    spec: { selector: {}, template: { spec: { containers: [{ image: "x" }] } } },
  }, "selfcheck"), /does not match its schema/);
  assert.throws(() => validateObject({
    apiVersion: "monitoring.coreos.com/v1", kind: "PrometheusRule", metadata: { name: "x" },
    spec: { groups: [{ rules: [{ alert: "A", expr: "up" }] }] },
  }, "selfcheck"), /does not match its schema/, "PrometheusRule group without a name");
  assert.throws(() => validateObject({ apiVersion: "v9", kind: "Nothing" }, "selfcheck"), /no schema/);

  // The values schema rejects typos and wrong types.
  const check = compileValuesSchema(opt.chart);
  const good = render(opt.chart, []);
  assert.equal(good.status, 0, `default render failed:\n${good.stderr}`);
  const base = good.values;
  assert.ok(check(base), `default values fail the schema: ${JSON.stringify(check.errors)}`);
  for (const bad of [{ mode: "sidecars" }, { imagee: {} }, { image: { tag: 1 } }, { containerPort: 0 },
    { extraArgs: ["postfix.logfile_path=x"] }, { journal: { path: "/etc" } },
    { showq: { ...base.showq, postdropGid: "postdrop" } }, { showq: { ...base.showq, dir: "public" } }]) {
    assert.ok(!check({ ...base, ...bad }), `schema accepts ${JSON.stringify(bad)}`);
  }
  // helm enforces the same schema.
  const typo = path.join(opt.out, "selfcheck-typo.yaml");
  fs.writeFileSync(typo, "mode: sidecars\n");
  let r = render(opt.chart, [typo]);
  assert.notEqual(r.status, 0, "helm must reject values that fail values.schema.json");
  assert.match(r.stderr, /schema/);

  // Manifests are read as the API server reads them.
  assert.throws(() => yamlToObject("a: 1\na: 2\n"), /[Dd]uplicate|unique/, "duplicate keys rejected");
  assert.deepEqual(yamlToObject("a: yes\nb: 2024-01-02\n"), { a: true, b: "2024-01-02" }, "YAML 1.1 scalars");

  // Template-time failures surface as a failed render.
  const native = path.join(opt.out, "selfcheck-native.yaml");
  fs.writeFileSync(native, "sidecar:\n  native: true\n");
  r = render(opt.chart, [native], ["--kube-version", "v1.28.5"]);
  assert.notEqual(r.status, 0, "native sidecar on Kubernetes 1.28 must fail");
  assert.match(r.stderr, /1\.29/);
  // Socket input without a native sidecar, or without a Postfix command to
  // wrap, is refused rather than rendered half-working.
  const sockNoNative = path.join(opt.out, "selfcheck-socket.yaml");
  fs.writeFileSync(sockNoNative, "sidecar:\n  input: socket\npostfix:\n  command: [postfix, start-fg]\n");
  r = render(opt.chart, [sockNoNative]);
  assert.notEqual(r.status, 0, "socket input without sidecar.native must fail");
  assert.match(r.stderr, /sidecar\.native/);
  const sockNoCmd = path.join(opt.out, "selfcheck-socket-cmd.yaml");
  fs.writeFileSync(sockNoCmd, "sidecar:\n  input: socket\n  native: true\n");
  r = render(opt.chart, [sockNoCmd]);
  assert.notEqual(r.status, 0, "socket input without postfix.command must fail");
  assert.match(r.stderr, /postfix\.command/);
  // showq in journal mode has no Postfix container to share public/ with:
  // the node's directory must be named.
  const showqJournal = path.join(opt.out, "selfcheck-showq.yaml");
  fs.writeFileSync(showqJournal, "mode: journal\nshowq:\n  enabled: true\n");
  r = render(opt.chart, [showqJournal]);
  assert.notEqual(r.status, 0, "showq in journal mode without showq.source must fail");
  assert.match(r.stderr, /showq\.source/);
  const sm = path.join(opt.out, "selfcheck-sm.yaml");
  fs.writeFileSync(sm, "service:\n  enabled: false\nserviceMonitor:\n  enabled: true\n");
  r = render(opt.chart, [sm]);
  assert.notEqual(r.status, 0, "a ServiceMonitor without a Service must fail");

  // The shape checks reject a missing postdrop group.
  const showqRender = render(opt.chart, [path.join(opt.chart, "ci", "showq-values.yaml")]);
  assert.equal(showqRender.status, 0, `showq render failed:\n${showqRender.stderr}`);
  const showqPod = podSpecOf(showqRender.manifests.find((m) => m.object.kind === "Deployment").object);
  checkExporter(showqPod, showqRender.values, "selfcheck");
  showqPod.securityContext.supplementalGroups = [4];
  assert.throws(() => checkExporter(showqPod, showqRender.values, "selfcheck"), /postdrop/);

  // The shape checks reject a writable log mount.
  const dep = good.manifests.find((m) => m.object.kind === "Deployment").object;
  checkExporter(podSpecOf(dep), good.values, "selfcheck");
  const exp = podSpecOf(dep).containers.find((c) => c.name === EXPORTER);
  exp.volumeMounts.find((m) => m.mountPath === "/var/log/postfix").readOnly = false;
  assert.throws(() => checkExporter(podSpecOf(dep), good.values, "selfcheck"), /read-only/);
  // The chart README's values table lists every value, and nothing else.
  const defaults = yamlToObject(fs.readFileSync(path.join(opt.chart, "values.yaml"), "utf8"));
  const readme = fs.readFileSync(path.join(opt.chart, "README.md"), "utf8");
  const valuesSection = readme.slice(readme.indexOf("\n## Values\n"));
  assert.ok(valuesSection.length > 20, "README has a ## Values section");
  const documented = new Set([...valuesSection.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]));
  const leaves = [];
  const walk = (obj, prefix) => {
    for (const [k, val] of Object.entries(obj)) {
      const p = prefix ? `${prefix}.${k}` : k;
      if (val && typeof val === "object" && !Array.isArray(val) && Object.keys(val).length && !documented.has(p)) {
        walk(val, p);
      } else {
        leaves.push(p);
      }
    }
  };
  walk(defaults, "");
  const undocumented = leaves.filter((p) => !documented.has(p));
  assert.deepEqual(undocumented, [], "values missing from the README's values table");
  const has = (p) => p.split(".").reduce((o, k) => (o && typeof o === "object" && k in o ? o[k] : undefined), defaults) !== undefined;
  assert.deepEqual([...documented].filter((p) => !has(p)), [], "README documents values that do not exist");
  console.log(`selfcheck: ok (${documented.size} values documented)`);
}

// ---------------------------------------------------------------------------
// One rendering.

function checkCase() {
  assert.ok(opt.dashboards, "--dashboards is required");
  const valueFiles = opt.values ? [opt.values] : [];
  const r = render(opt.chart, valueFiles);
  if (r.status !== 0) throw new Error(`render failed:\n${r.stderr}`);
  if (r.stderr) process.stderr.write(r.stderr);
  const { values: all, manifests } = r;
  const v = opt.subchart ? all[opt.subchart] : all;
  const ourChartDir = opt.subchart ? path.join(opt.chart, "charts", opt.subchart) : opt.chart;
  const where = `case ${opt.case}`;

  // Values as Helm would validate them.
  const check = compileValuesSchema(ourChartDir);
  assert.ok(check(v), `${where}: values fail values.schema.json: ${JSON.stringify(check.errors, null, 1)}`);

  // appVersion is written twice (Chart.yaml, _helpers.tpl); keep them equal.
  const chartYaml = yamlToObject(fs.readFileSync(path.join(ourChartDir, "Chart.yaml"), "utf8"));
  assert.equal(chartYaml.apiVersion, "v2");

  // Every object: schema, name, uniqueness, labels.
  const seen = new Set();
  for (const { source, object: o } of manifests) {
    const at = `${where}: ${source}`;
    validateObject(o, at);
    assert.match(o.metadata.name, DNS1123_SUBDOMAIN, `${at}: name`);
    const key = `${o.apiVersion}/${o.kind}/${o.metadata.namespace}/${o.metadata.name}`;
    assert.ok(!seen.has(key), `${at}: duplicate ${key}`);
    seen.add(key);
    if (source.includes(`/${CHART_NAME}/templates/`) || source.startsWith(`${CHART_NAME}/templates/`)) {
      const l = o.metadata.labels ?? {};
      assert.equal(l["app.kubernetes.io/managed-by"], "Helm", `${at}: managed-by label`);
      assert.equal(l["app.kubernetes.io/instance"], "release-name", `${at}: instance label`);
      assert.equal(l["app.kubernetes.io/version"], chartYaml.appVersion, `${at}: version label = appVersion`);
      assert.ok(l["helm.sh/chart"], `${at}: chart label`);
    }
  }
  const byKind = (kind) => manifests.map((m) => m.object).filter((o) => o.kind === kind);
  const ours = (kind) => manifests.filter((m) => m.source.includes(`${CHART_NAME}/templates/`) && m.object.kind === kind)
    .map((m) => m.object);

  // Workloads carrying the exporter.
  const pods = [];
  for (const o of [...byKind("Deployment"), ...byKind("DaemonSet")]) {
    const ps = podSpecOf(o);
    const has = [...(ps.containers ?? []), ...(ps.initContainers ?? [])].some((c) => c.name === EXPORTER);
    if (!has) continue;
    const at = `${where}: ${o.kind} ${o.metadata.name}`;
    assert.ok(labelsMatch(o.spec.selector.matchLabels, o.spec.template.metadata.labels), `${at}: selector matches pods`);
    const { c } = checkExporter(ps, v, at);
    assert.equal(c.image, `${v.image.repository}:${v.image.tag || chartYaml.appVersion}`, `${at}: image`);
    if (o.kind === "Deployment") {
      checkPostfixWriter(ps, v, at);
      if (v.showq?.enabled && opt.subchart === undefined) {
        const writers = (ps.containers ?? []).filter((x) => x.name !== EXPORTER &&
          (x.volumeMounts ?? []).some((m) => m.name === v.showq.volumeName && m.mountPath === v.showq.dir && !m.readOnly));
        assert.equal(writers.length, 1, `${at}: Postfix mounts ${v.showq.dir} read-write (master creates showq there)`);
      }
    } else {
      assert.equal(v.mode, "journal");
    }
    if (opt.subchart === undefined) {
      assert.equal(ps.automountServiceAccountToken, false, `${at}: no API token in the pod`);
    }
    pods.push(o.spec.template.metadata.labels);
  }
  if (opt.subchart) {
    assert.equal(pods.length, 1, `${where}: the parent's Deployment carries the exporter`);
  } else {
    const expected = { sidecar: "Deployment", journal: "DaemonSet", none: null }[v.mode];
    assert.equal(ours("Deployment").length, expected === "Deployment" ? 1 : 0, `${where}: Deployments`);
    assert.equal(ours("DaemonSet").length, expected === "DaemonSet" ? 1 : 0, `${where}: DaemonSets`);
    assert.equal(pods.length, expected ? 1 : 0, `${where}: exporter pods`);
  }

  // Config file and web config hold exactly the values.
  const configMaps = ours("ConfigMap").filter((o) => o.data?.["config.yaml"] !== undefined);
  if (Object.keys(v.config ?? {}).length) {
    assert.equal(configMaps.length, 1, `${where}: config ConfigMap`);
    assert.deepEqual(yamlToObject(configMaps[0].data["config.yaml"]), v.config, `${where}: config.yaml = values.config`);
  } else {
    assert.equal(configMaps.length, 0);
  }
  const secrets = ours("Secret");
  if (Object.keys(v.webConfig ?? {}).length) {
    assert.equal(secrets.length, 1, `${where}: web config Secret`);
    assert.deepEqual(yamlToObject(secrets[0].stringData["web-config.yml"]), v.webConfig);
  } else {
    assert.equal(secrets.length, 0);
  }

  // Service and monitors find the pods.
  const services = ours("Service");
  assert.equal(services.length, v.service.enabled ? 1 : 0, `${where}: Service`);
  for (const s of services) {
    assert.deepEqual(s.spec.ports.map((p) => [p.name, p.port, p.targetPort]), [["metrics", v.service.port, "metrics"]]);
    for (const labels of pods) assert.ok(labelsMatch(s.spec.selector, labels), `${where}: Service selects the pods`);
  }
  const sms = byKind("ServiceMonitor");
  assert.equal(sms.length, v.serviceMonitor.enabled ? 1 : 0, `${where}: ServiceMonitor`);
  for (const sm of sms) {
    assert.ok(labelsMatch(sm.spec.selector.matchLabels, services[0].metadata.labels), `${where}: ServiceMonitor selects the Service`);
    const ep = sm.spec.endpoints[0];
    assert.equal(ep.port, "metrics");
    assert.equal(ep.path, v.telemetryPath);
    assert.equal(ep.scheme, v.serviceMonitor.scheme);
    assert.equal(ep.interval, v.serviceMonitor.interval);
    assert.equal(ep.scrapeTimeout, v.serviceMonitor.scrapeTimeout);
    assert.deepEqual(ep.relabelings ?? [], v.serviceMonitor.relabelings);
    assert.deepEqual(ep.metricRelabelings ?? [], v.serviceMonitor.metricRelabelings);
    for (const [k, val] of Object.entries(v.serviceMonitor.labels)) assert.equal(sm.metadata.labels[k], val);
  }
  const pms = byKind("PodMonitor");
  assert.equal(pms.length, v.podMonitor.enabled ? 1 : 0, `${where}: PodMonitor`);
  for (const pm of pms) {
    for (const labels of pods) assert.ok(labelsMatch(pm.spec.selector.matchLabels, labels), `${where}: PodMonitor selects the pods`);
    assert.equal(pm.spec.podMetricsEndpoints[0].port, "metrics");
    assert.equal(pm.spec.podMetricsEndpoints[0].path, v.telemetryPath);
  }

  // PrometheusRules: one per rule file in dashboards/, spec == the file.
  const ruleFiles = fs.readdirSync(opt.dashboards).filter((f) => /\.ya?ml$/.test(f)).sort()
    .map((f) => ({ f, doc: yamlToObject(fs.readFileSync(path.join(opt.dashboards, f), "utf8")) }))
    .filter(({ doc }) => doc && typeof doc === "object" && "groups" in doc);
  const rules = byKind("PrometheusRule");
  if (v.prometheusRule.enabled) {
    assert.ok(ruleFiles.length >= 1, `${where}: dashboards/ holds no rule file`);
    const shipped = v.prometheusRule.shippedRules ? ruleFiles : [];
    const custom = (v.prometheusRule.rules ?? []).length ? 1 : 0;
    assert.equal(rules.length, shipped.length + custom, `${where}: PrometheusRule count`);
    for (const { f, doc } of shipped) {
      const pr = rules.find((o) => o.metadata.annotations?.["postfix-sasl-exporter/source"] === `dashboards/${f}`);
      assert.ok(pr, `${where}: PrometheusRule for dashboards/${f}`);
      assert.deepEqual(pr.spec, doc, `${where}: PrometheusRule spec == dashboards/${f}`);
      for (const [k, val] of Object.entries(v.prometheusRule.additionalLabels)) assert.equal(pr.metadata.labels[k], val);
    }
    if (custom) {
      const pr = rules.find((o) => !o.metadata.annotations?.["postfix-sasl-exporter/source"]);
      assert.deepEqual(pr.spec.groups.flatMap((g) => g.rules), v.prometheusRule.rules, `${where}: custom rules`);
    }
  } else {
    assert.equal(rules.length, 0, `${where}: no PrometheusRule when disabled`);
  }

  // Dashboards: one ConfigMap per dashboards/*.json, content byte-equal.
  const dashFiles = fs.readdirSync(opt.dashboards).filter((f) => f.endsWith(".json")).sort();
  const dashMaps = ours("ConfigMap").filter((o) => o.data?.["config.yaml"] === undefined);
  if (v.dashboards.enabled) {
    assert.ok(dashFiles.length >= 1, `${where}: dashboards/ holds no dashboard`);
    assert.equal(dashMaps.length, dashFiles.length, `${where}: one ConfigMap per dashboard`);
    for (const f of dashFiles) {
      const cm = dashMaps.find((o) => f in (o.data ?? {}));
      assert.ok(cm, `${where}: ConfigMap for dashboards/${f}`);
      assert.deepEqual(Object.keys(cm.data), [f]);
      assert.equal(cm.data[f], fs.readFileSync(path.join(opt.dashboards, f), "utf8"), `${where}: ${f} byte-equal`);
      JSON.parse(cm.data[f]);
      for (const [k, val] of Object.entries(v.dashboards.labels)) assert.equal(cm.metadata.labels[k], val);
      assert.equal(cm.metadata.labels.grafana_dashboard, "1", `${where}: Grafana sidecar label`);
      for (const [k, val] of Object.entries(v.dashboards.annotations)) assert.equal(cm.metadata.annotations[k], val);
    }
  } else {
    assert.equal(dashMaps.length, 0, `${where}: no dashboard ConfigMap when disabled`);
  }

  console.log(`${where}: ${manifests.length} objects valid (${manifests.map((m) => m.object.kind).join(", ")}); ` +
    `${ruleFiles.length} rule file(s), ${dashFiles.length} dashboard(s) in dashboards/`);
}

if (opt.selfcheck) selfcheck();
else checkCase();
