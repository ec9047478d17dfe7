// Rendering the chart with the real `helm` for validate.mjs: helm runs with
// its cache and config under the output directory (it reads no user
// configuration and writes nothing outside the build tree); its YAML output is
// read as the Kubernetes API machinery reads it.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

import YAML from "yaml";

export const RELEASE = "release-name";

// YAML as the Kubernetes API machinery (sigs.k8s.io/yaml) reads it: YAML 1.1
// scalars (yes/no are booleans), `<<` merges, duplicate keys rejected, and
// timestamps left as strings.
const YAML_OPTIONS = {
  version: "1.1",
  merge: true,
  uniqueKeys: true,
  customTags: (tags) => tags.filter((t) => t.tag !== "tag:yaml.org,2002:timestamp"),
};

export function yamlToObject(text) {
  const doc = YAML.parseDocument(text, YAML_OPTIONS);
  if (doc.errors.length) throw new Error(`YAML: ${doc.errors.map((e) => e.message).join("; ")}`);
  return JSON.parse(JSON.stringify(doc.toJS() ?? null));
}

// `helm template` output: documents separated by `---`, each headed by
// `# Source: <chart>/templates/<file>`.
export function parseManifests(text) {
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

// A renderer running `helmBin`, writing into `out`, naming its files after
// `caseName`.
export function createRenderer(helmBin, out, caseName) {
  const helmEnv = {
    ...process.env,
    HELM_CACHE_HOME: path.join(out, "helm-home", "cache"),
    HELM_CONFIG_HOME: path.join(out, "helm-home", "config"),
    HELM_DATA_HOME: path.join(out, "helm-home", "data"),
  };

  function helm(args) {
    const r = spawnSync(helmBin, args, { env: helmEnv, encoding: "utf8", maxBuffer: 64 << 20 });
    if (r.error) throw r.error;
    return r;
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
  // and the computed values, and leaves both in `out` for inspection.
  function render(chart, valueFiles, extra = []) {
    const tag = caseName.replace(/[^A-Za-z0-9_.-]/g, "_");
    const yamlOut = path.join(out, `${tag}.yaml`);
    const jsonOut = path.join(out, `${tag}.json`);
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

  return { render };
}
