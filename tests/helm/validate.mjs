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
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";

import Ajv from "ajv";
import YAML from "yaml";
import * as coreV1 from "kubernetes-models/v1";
import * as appsV1 from "kubernetes-models/apps/v1";
import * as monitoringV1 from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1";

const EXPORTER = "postfix-sasl-exporter";
const CHART_NAME = "postfix-sasl-exporter";
const RELEASE = "release-name";

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

const MODELS = new Map();
function addModels(apiVersion, mod) {
  for (const [kind, cls] of Object.entries(mod)) {
    if (typeof cls === "function" && typeof cls.prototype?.validate === "function") {
      MODELS.set(`${apiVersion}/${kind}`, cls);
    }
  }
}
addModels("v1", coreV1);
addModels("apps/v1", appsV1);
addModels("monitoring.coreos.com/v1", monitoringV1);

// ---------------------------------------------------------------------------
// Helpers.

// helm keeps its cache and config under the output directory, so a test
// reads no user configuration and writes nothing outside the build tree.
const HELM_ENV = {
  ...process.env,
  HELM_CACHE_HOME: path.join(opt.out, "helm-home", "cache"),
  HELM_CONFIG_HOME: path.join(opt.out, "helm-home", "config"),
  HELM_DATA_HOME: path.join(opt.out, "helm-home", "data"),
};

function helm(args) {
  const r = spawnSync(opt.helm, args, { env: HELM_ENV, encoding: "utf8", maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  return r;
}

// YAML as the Kubernetes API machinery (sigs.k8s.io/yaml) reads it: YAML 1.1
// scalars (yes/no are booleans), `<<` merges, duplicate keys rejected, and
// timestamps left as strings.
const YAML_OPTIONS = {
  version: "1.1",
  merge: true,
  uniqueKeys: true,
  customTags: (tags) => tags.filter((t) => t.tag !== "tag:yaml.org,2002:timestamp"),
};

function yamlToObject(text) {
  const doc = YAML.parseDocument(text, YAML_OPTIONS);
  if (doc.errors.length) throw new Error(`YAML: ${doc.errors.map((e) => e.message).join("; ")}`);
  return JSON.parse(JSON.stringify(doc.toJS() ?? null));
}

// `helm template` output: documents separated by `---`, each headed by
// `# Source: <chart>/templates/<file>`.
function parseManifests(text) {
  const manifests = [];
  for (const part of text.split(/^---$/m)) {
    const source = /^# Source: (.+)$/m.exec(part)?.[1];
    const object = yamlToObject(part);
    if (object === null) continue;
    assert.ok(source, `rendered document without a # Source line:\n${part}`);
    assert.ok(object.apiVersion && object.kind, `${source}: apiVersion and kind`);
    manifests.push({ source, object });
  }
  return manifests;
}

// The values helm computed for the release (chart defaults coalesced with the
// -f files, subchart defaults under their name): printed by an install dry
// run with --debug between COMPUTED VALUES: and HOOKS:.
function computedValues(chart, valueFiles) {
  const args = ["install", RELEASE, chart, "--dry-run=client", "--debug", "--hide-notes"];
  for (const f of valueFiles) args.push("-f", f);
  const r = helm(args);
  if (r.status !== 0) throw new Error(`helm install --dry-run failed:\n${r.stderr}`);
  const m = /^COMPUTED VALUES:\n([\s\S]*?)^HOOKS:$/m.exec(r.stdout);
  assert.ok(m, `no COMPUTED VALUES in helm's dry-run output:\n${r.stdout}`);
  return yamlToObject(m[1]);
}

// Renders with `helm template`; on success also returns the parsed manifests
// and the computed values, and leaves both in --out for inspection.
function render(chart, valueFiles, extra = []) {
  const tag = opt.case.replace(/[^A-Za-z0-9_.-]/g, "_");
  const yamlOut = path.join(opt.out, `${tag}.yaml`);
  const jsonOut = path.join(opt.out, `${tag}.json`);
  const args = ["template", RELEASE, chart, ...extra];
  for (const f of valueFiles) args.push("-f", f);
  const r = helm(args);
  fs.writeFileSync(yamlOut, r.stdout);
  if (r.status !== 0) return { status: r.status, stderr: r.stderr };
  const manifests = parseManifests(r.stdout);
  const values = computedValues(chart, valueFiles);
  fs.writeFileSync(jsonOut, JSON.stringify({ values, manifests }, null, 2));
  return { status: 0, stderr: r.stderr, values, manifests };
}

function validateObject(obj, where) {
  const cls = MODELS.get(`${obj.apiVersion}/${obj.kind}`);
  assert.ok(cls, `${where}: no schema for ${obj.apiVersion} ${obj.kind}`);
  try {
    new cls(obj).validate();
  } catch (e) {
    throw new Error(`${where}: ${obj.kind} ${obj.metadata?.name} does not match its schema: ${e.message}`);
  }
}

function compileValuesSchema(chartDir) {
  const schema = JSON.parse(fs.readFileSync(path.join(chartDir, "values.schema.json"), "utf8"));
  const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
  return ajv.compile(schema);
}

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function podSpecOf(obj) {
  return obj.spec?.template?.spec;
}

function findExporter(podSpec) {
  const inMain = (podSpec.containers ?? []).filter((c) => c.name === EXPORTER);
  const inInit = (podSpec.initContainers ?? []).filter((c) => c.name === EXPORTER);
  assert.equal(inMain.length + inInit.length, 1, "exactly one exporter container per pod");
  return inMain.length ? { c: inMain[0], native: false } : { c: inInit[0], native: true };
}

function labelsMatch(selector, labels) {
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

function argValue(args, flag) {
  const found = args.filter((a) => a.startsWith(`${flag}=`)).map((a) => a.slice(flag.length + 1));
  return found;
}

// ---------------------------------------------------------------------------
// Checks of one exporter container and its pod.

function checkExporter(podSpec, v, where) {
  const { c, native } = findExporter(podSpec);
  const cfg = v.config ?? {};
  assert.equal(native, v.sidecar.native === true && v.mode !== "journal", `${where}: native sidecar placement`);
  if (native) {
    assert.equal(c.restartPolicy, "Always", `${where}: native sidecar needs restartPolicy: Always`);
    assert.ok(!(podSpec.containers ?? []).some((x) => x.name === EXPORTER), `${where}: exporter also in containers`);
  } else {
    assert.equal(c.restartPolicy, undefined, `${where}: restartPolicy only on a native sidecar`);
  }

  // Port and flags of the HTTP side.
  const metricsPort = (c.ports ?? []).find((p) => p.name === "metrics");
  assert.ok(metricsPort, `${where}: container port named metrics`);
  assert.equal(metricsPort.containerPort, v.containerPort, `${where}: metrics port`);
  const args = c.args ?? [];
  assert.ok(args.every((a) => typeof a === "string"), `${where}: args are strings`);
  if (!("web.listen-address" in cfg)) {
    assert.deepEqual(argValue(args, "--web.listen-address"), [`:${v.containerPort}`], `${where}: listen address`);
  }
  assert.deepEqual(argValue(args, "--web.telemetry-path"), [v.telemetryPath], `${where}: telemetry path`);
  for (const a of v.extraArgs ?? []) assert.ok(args.includes(a), `${where}: extraArgs ${a} passed`);

  // Probes.
  const basicAuth = Boolean(v.webConfig?.basic_auth_users);
  const tls = Boolean(v.webConfig?.tls_server_config);
  for (const [probeName, probePath] of [["livenessProbe", "/-/healthy"], ["readinessProbe", "/-/ready"]]) {
    const p = c[probeName];
    assert.ok(p, `${where}: ${probeName}`);
    if (basicAuth) {
      assert.deepEqual(p.tcpSocket, { port: "metrics" }, `${where}: ${probeName} is a TCP check under basic auth`);
      assert.equal(p.httpGet, undefined);
    } else {
      assert.deepEqual(p.httpGet, { path: probePath, port: "metrics", scheme: tls ? "HTTPS" : "HTTP" },
        `${where}: ${probeName} on ${probePath}`);
    }
  }

  // Hardening: the exporter's own security context, merged over the pod's.
  const sc = { ...(podSpec.securityContext ?? {}), ...(c.securityContext ?? {}) };
  assert.equal(sc.runAsNonRoot, true, `${where}: runAsNonRoot`);
  assert.equal(c.securityContext?.readOnlyRootFilesystem, true, `${where}: readOnlyRootFilesystem`);
  assert.equal(c.securityContext?.allowPrivilegeEscalation, false, `${where}: allowPrivilegeEscalation false`);
  assert.ok(c.securityContext?.capabilities?.drop?.includes("ALL"), `${where}: capabilities drop ALL`);
  assert.equal(c.securityContext?.capabilities?.add, undefined, `${where}: no capability added`);
  assert.equal(sc.seccompProfile?.type, "RuntimeDefault", `${where}: seccomp RuntimeDefault`);
  assert.notEqual(c.securityContext?.privileged, true, `${where}: not privileged`);

  // Every mount names a volume of the pod; nothing but the state dir is
  // writable (plus whatever the user adds through extraVolumeMounts).
  const volumes = new Map((podSpec.volumes ?? []).map((x) => [x.name, x]));
  const mounts = c.volumeMounts ?? [];
  const extraMounts = new Set((v.extraVolumeMounts ?? []).map((m) => m.mountPath));
  // Socket input: the exporter creates its socket in the shared directory.
  const socketInput = v.mode !== "journal" && v.sidecar.input === "socket";
  if (socketInput) extraMounts.add(v.sidecar.socket.dir);
  for (const m of mounts) {
    assert.ok(volumes.has(m.name), `${where}: mount ${m.name} has a volume`);
    if (m.mountPath !== "/var/lib/postfix-sasl-exporter" && !extraMounts.has(m.mountPath)) {
      assert.equal(m.readOnly, true, `${where}: ${m.mountPath} mounted read-only`);
    }
  }
  const mountAt = (dir) => mounts.find((m) => m.mountPath === dir);

  if (v.mode === "journal") {
    assert.ok(args.includes("--systemd.enable"), `${where}: --systemd.enable`);
    const jp = "systemd.journal_path" in cfg ? cfg["systemd.journal_path"] : argValue(args, "--systemd.journal_path")[0];
    assert.equal(jp, v.journal.path, `${where}: --systemd.journal_path`);
    assert.deepEqual(argValue(args, "--systemd.unit"), v.journal.units, `${where}: --systemd.unit per unit`);
    assert.deepEqual(argValue(args, "--systemd.slice"), v.journal.slice ? [v.journal.slice] : [], `${where}: slice`);
    const m = mountAt(v.journal.path);
    assert.ok(m, `${where}: ${v.journal.path} mounted`);
    assert.equal(m.readOnly, true, `${where}: journal mounted read-only`);
    assert.deepEqual(volumes.get(m.name).hostPath, { path: v.journal.path, type: "Directory" },
      `${where}: the node's own journal directory, never created by the pod`);
    assert.equal(argValue(args, "--postfix.logfile_path").length, 0, `${where}: no log file in journal mode`);
    if (v.journal.cursorFile) {
      assert.deepEqual(argValue(args, "--state.file"), ["/var/lib/postfix-sasl-exporter/state"]);
    }
  } else if (socketInput) {
    const sock = `${v.sidecar.socket.dir}/${v.sidecar.socket.name}`;
    assert.ok(native, `${where}: socket input runs as a native sidecar (socket before Postfix)`);
    const listen = "syslog.listen-address" in cfg ? [cfg["syslog.listen-address"]].flat()
      : argValue(args, "--syslog.listen-address");
    assert.deepEqual(listen, [`unixgram://${sock}`], `${where}: --syslog.listen-address`);
    assert.deepEqual(argValue(args, "--syslog.socket-mode"), [v.sidecar.socket.mode], `${where}: socket mode`);
    assert.equal(args.includes("--syslog.echo"), v.sidecar.socket.echo === true, `${where}: --syslog.echo`);
    assert.equal(argValue(args, "--postfix.logfile_path").length, 0, `${where}: no log file in socket input`);
    assert.equal(argValue(args, "--state.file").length, 0, `${where}: no state file`);
    assert.ok(!args.includes("--systemd.enable"), `${where}: no journal in socket input`);
    const m = mountAt(v.sidecar.socket.dir);
    assert.ok(m, `${where}: socket directory mounted in the exporter`);
    assert.notEqual(m.readOnly, true, `${where}: the exporter creates the socket`);
    assert.equal(m.name, v.sidecar.socket.volumeName);
    assert.deepEqual(volumes.get(m.name).emptyDir, {}, `${where}: socket directory is an emptyDir`);
    assert.deepEqual(c.startupProbe?.httpGet?.path ?? (c.startupProbe?.tcpSocket ? "/-/healthy" : undefined),
      "/-/healthy", `${where}: startupProbe holds Postfix back until the socket is bound`);
  } else {
    const logPath = "postfix.logfile_path" in cfg ? cfg["postfix.logfile_path"] : argValue(args, "--postfix.logfile_path")[0];
    assert.equal(logPath, v.sidecar.logPath, `${where}: --postfix.logfile_path`);
    if ("postfix.logfile_path" in cfg) {
      assert.equal(argValue(args, "--postfix.logfile_path").length, 0, `${where}: flag left to the config file`);
    }
    const logDir = path.posix.dirname(v.sidecar.logPath);
    const m = mountAt(logDir);
    assert.ok(m, `${where}: log directory ${logDir} mounted in the exporter`);
    assert.equal(m.readOnly, true, `${where}: shared log volume read-only in the exporter`);
    assert.equal(m.name, v.sidecar.logVolume.name);
    const vol = volumes.get(m.name);
    if (Object.keys(v.sidecar.logVolume.source ?? {}).length) {
      assert.deepEqual({ ...vol, name: undefined }, { name: undefined, ...v.sidecar.logVolume.source });
    } else {
      assert.deepEqual(vol.emptyDir, {}, `${where}: log volume is an emptyDir by default`);
    }
    assert.equal(args.includes("--postfix.logfile_from_beginning"), v.sidecar.fromBeginning === true);
    assert.ok(!args.includes("--systemd.enable"), `${where}: no journal in file mode`);
    if (v.sidecar.positionFile) {
      assert.deepEqual(argValue(args, "--state.file"),
        ["/var/lib/postfix-sasl-exporter/state"], `${where}: state file`);
      assert.deepEqual(volumes.get(mountAt("/var/lib/postfix-sasl-exporter").name).emptyDir, {});
    }
  }

  // The mail queue: the showq socket flag, a read-only mount of Postfix's
  // public/ directory and the postdrop group on the pod.
  if (v.showq?.enabled) {
    const sq = "postfix.showq_path" in cfg ? cfg["postfix.showq_path"] : argValue(args, "--postfix.showq_path")[0];
    assert.equal(sq, `${v.showq.dir}/showq`, `${where}: --postfix.showq_path`);
    const m = mountAt(v.showq.dir);
    assert.ok(m, `${where}: ${v.showq.dir} mounted in the exporter`);
    assert.equal(m.readOnly, true, `${where}: public/ read-only in the exporter`);
    assert.equal(m.name, v.showq.volumeName);
    const vol = volumes.get(m.name);
    if (Object.keys(v.showq.source ?? {}).length) {
      assert.deepEqual({ ...vol, name: undefined }, { name: undefined, ...v.showq.source }, `${where}: showq.source`);
    } else {
      assert.deepEqual(vol.emptyDir, {}, `${where}: public/ is an emptyDir by default`);
    }
    if (v.showq.postdropGid !== null && v.showq.postdropGid !== undefined) {
      const groups = podSpec.securityContext?.supplementalGroups ?? [];
      assert.ok(groups.includes(v.showq.postdropGid), `${where}: postdrop gid in the pod's supplementalGroups`);
      for (const g of v.podSecurityContext?.supplementalGroups ?? []) {
        assert.ok(groups.includes(g), `${where}: podSecurityContext's own supplementalGroups kept`);
      }
    }
  } else {
    assert.equal(argValue(args, "--postfix.showq_path").length, 0, `${where}: no showq without showq.enabled`);
  }

  if (Object.keys(cfg).length) {
    assert.deepEqual(argValue(args, "--config.file"), ["/etc/postfix-sasl-exporter/config/config.yaml"]);
    const m = mountAt("/etc/postfix-sasl-exporter/config");
    assert.ok(m?.readOnly, `${where}: config mounted read-only`);
    assert.ok(volumes.get(m.name).configMap?.name, `${where}: config volume is a ConfigMap`);
  } else {
    assert.equal(argValue(args, "--config.file").length, 0);
  }
  if (Object.keys(v.webConfig ?? {}).length) {
    assert.deepEqual(argValue(args, "--web.config.file"), ["/etc/postfix-sasl-exporter/web/web-config.yml"]);
    assert.ok(volumes.get(mountAt("/etc/postfix-sasl-exporter/web").name).secret?.secretName);
  }
  if (v.tlsSecretName) {
    assert.equal(volumes.get(mountAt("/etc/postfix-sasl-exporter/tls").name).secret?.secretName, v.tlsSecretName);
  }
  return { c, volumes };
}

// The Postfix side of a sidecar pod: writes the shared log directory.
function checkPostfixWriter(podSpec, v, where) {
  if (v.sidecar.input === "socket") {
    const dir = v.sidecar.socket.dir;
    const writers = (podSpec.containers ?? []).filter((c) => c.name !== EXPORTER &&
      (c.volumeMounts ?? []).some((m) => m.name === v.sidecar.socket.volumeName && m.mountPath === dir && !m.readOnly));
    assert.equal(writers.length, 1, `${where}: one container (Postfix) mounts the socket directory ${dir}`);
    if (v.postfix.linkDevLog !== false) {
      const c = writers[0];
      assert.deepEqual(c.command?.slice(0, 2), ["/bin/sh", "-c"], `${where}: Postfix started through sh`);
      assert.ok(c.command[2].startsWith(`ln -sf ${dir}/${v.sidecar.socket.name} /dev/log && exec "$@"`),
        `${where}: /dev/log points at the exporter's socket`);
      assert.deepEqual(c.args, [...v.postfix.command, ...(v.postfix.args ?? [])], `${where}: then Postfix's own command`);
    }
    return writers[0];
  }
  const logDir = path.posix.dirname(v.sidecar.logPath);
  const writers = (podSpec.containers ?? []).filter((c) => c.name !== EXPORTER &&
    (c.volumeMounts ?? []).some((m) => m.name === v.sidecar.logVolume.name && m.mountPath === logDir && !m.readOnly));
  assert.equal(writers.length, 1, `${where}: one container (Postfix) mounts ${logDir} read-write`);
  return writers[0];
}

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
