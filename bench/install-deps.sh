#!/usr/bin/env bash
# Benchmark-only dependencies (kumina's exporter, mtail, profilers): one place
# installs packages, scripts/install-deps.sh.
exec "$(dirname "$0")/../scripts/install-deps.sh" --bench
