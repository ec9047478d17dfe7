#!/usr/bin/env bash
# Installs what the benchmark (bench/run.sh) needs beyond the build
# dependencies (scripts/install-deps.sh): the tools we compare against and
# the profilers. Benchmark-only: the test suite never needs these.
# Idempotent; works as root on Debian 12. Non-interactive.
set -euo pipefail

pkgs=(
  prometheus-postfix-exporter  # kumina's Go exporter (0.3.0 in bookworm)
  mtail                        # Google's log-to-metrics tool, ships examples/postfix.mtail
  python3 curl procps time     # generator, scrapes, /usr/bin/time -v
  libbenchmark-dev             # Google Benchmark for bench/parser_bench.cc
  linux-perf valgrind          # profiling when a target is missed
)

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ((${#missing[@]} == 0)); then
  echo "bench/install-deps: all installed"
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "bench/install-deps: need root to install: ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# Debian's prometheus-postfix-exporter starts a service on install; policy-rc.d
# keeps it from grabbing :9154 on a build machine.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod +x "$policy"
  created_policy=1
fi
cleanup() { if [[ $created_policy == 1 ]]; then rm -f "$policy"; fi; }
trap cleanup EXIT
apt-get install -y -qq --no-install-recommends "${missing[@]}"
