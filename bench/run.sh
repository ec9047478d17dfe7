#!/usr/bin/env bash
# The whole benchmark in one command: installs the tools we compare against
# (bench/install-deps.sh, root only), builds the exporter and the
# micro-benchmarks in Release mode (build-bench/), generates the corpora
# (cached in bench/results/), runs every part and prints the tables, which
# also go to bench/results/latest.md (numbers: latest.json).
#
#   bench/run.sh                      everything (about 5 minutes on 2 cores)
#   bench/run.sh --parts replay       only some parts: replay,live,memory,micro,
#                                     statefile,crash,attack,receiver (--phases: the same)
#   bench/run.sh --lines 500000       a smaller replay corpus
#
# Not part of the test suite; exit status 1 only when a count check failed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [[ $(id -u) -eq 0 ]]; then
  bench/install-deps.sh
else
  echo "bench/run.sh: not root; skipping bench/install-deps.sh (missing tools are skipped)" >&2
fi

build=${PSE_BENCH_BUILD_DIR:-build-bench}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DPSE_BUILD_TESTS=OFF \
  -DPSE_BUILD_BENCHMARKS=ON >/dev/null
cmake --build "$build" --target postfix_sasl_exporter parser_bench syslog_sender syslog_floor -j"$(nproc)" >/dev/null

exec python3 bench/bench.py --exe "$build/postfix_sasl_exporter" \
  --micro "$build/parser_bench" --sender "$build/syslog_sender" --floor "$build/syslog_floor" "$@"
