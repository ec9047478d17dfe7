// Schemas for validate.mjs: every rendered object against the Kubernetes /
// Prometheus-operator models (kubernetes-models,
// @kubernetes-models/prometheus-operator), and the chart's values.schema.json
// compiled with ajv (helm enforces the same schema).
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";

import Ajv from "ajv";
import * as coreV1 from "kubernetes-models/v1";
import * as appsV1 from "kubernetes-models/apps/v1";
import * as monitoringV1 from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1";

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

// Throws naming `where` when obj has no known schema or does not match it.
export function validateObject(obj, where) {
  const cls = MODELS.get(`${obj.apiVersion}/${obj.kind}`);
  assert.ok(cls, `${where}: no schema for ${obj.apiVersion} ${obj.kind}`);
  try {
    new cls(obj).validate();
  } catch (e) {
    throw new Error(`${where}: ${obj.kind} ${obj.metadata?.name} does not match its schema: ${e.message}`);
  }
}

// A function that checks computed values against the chart's schema.
export function compileValuesSchema(chartDir) {
  const schema = JSON.parse(fs.readFileSync(path.join(chartDir, "values.schema.json"), "utf8"));
  const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
  return ajv.compile(schema);
}
