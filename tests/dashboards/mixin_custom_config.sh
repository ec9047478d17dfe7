#!/bin/sh
# Renders the mixin with dashboards/mixin/tests/custom_config.libsonnet (other
# selector, rate window, thresholds, runbook URLs, multi-cluster on) into a
# temporary tree and checks it like the shipped files: promtool check rules,
# promtool test rules with dashboards/mixin/tests/custom_config.test.yml, and
# check_dashboards.py (dashboard linter rules and rule annotations).
#
# Usage: mixin_custom_config.sh REPO_ROOT [PROMTOOL] [PYTHON3]
set -eu
root=$1
promtool=${2:-promtool}
python3=${3:-python3}

tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
mkdir -p "$tree/dashboards/tests" "$tree/docs"
"$root/dashboards/mixin/generate.sh" -c "$root/dashboards/mixin/tests/custom_config.libsonnet" -o "$tree/dashboards"
cp "$root/dashboards/mixin/tests/custom_config.test.yml" "$tree/dashboards/tests/"
cp -r "$root/docs/runbook.md" "$root/docs/runbook" "$tree/docs/"

# The custom selector must have reached every rule; the default must not.
if grep -q 'job=~".\*postfix.\*"' "$tree/dashboards/postfix-sasl-exporter-rules.yml"; then
  echo "FAIL: the default selector is still in the custom rendering"
  exit 1
fi

"$promtool" check rules "$tree/dashboards/postfix-sasl-exporter-rules.yml"
"$promtool" test rules "$tree/dashboards/tests/custom_config.test.yml"
"$python3" "$root/tests/dashboards/check_dashboards.py" --root "$tree" \
  --metrics "$root/tests/dashboards/exported_metrics.txt" \
  --runbook-base 'https://wiki.example.org/postfix-runbook#' --skip-test-coverage
echo "mixin_custom_config: OK"
