#!/usr/bin/env bash
# Fuzzes the input parsers with libFuzzer under AddressSanitizer and
# UndefinedBehaviorSanitizer. Two targets:
#   parser   parsers/parser_fuzzer.cc: the syslog line parser (every header
#            form: BSD/RFC 3164 with or without PRI and host, RFC 5424,
#            RFC 3339 stamps) and the Postfix and mail-flow parsers
#   framing  exporter/sources/syslog_framing_fuzzer.cc: the syslog
#            receiver's stream framing (RFC 6587 octet counting, newline
#            framing, frames split across reads, oversized counts)
#
#   scripts/fuzz.sh [SECONDS] [parser|framing]...   each target for SECONDS
#                                                   (default 60; both targets)
#
# 1. Builds the fuzzers with clang++ in build-fuzz/ (PSE_BUILD_FUZZERS=ON,
#    PSE_SANITIZE=ON, and -fsanitize=fuzzer-no-link on everything so the
#    libraries themselves are coverage-instrumented, not just the harness).
# 2. Seeds each target's corpus (fuzz-corpus/TARGET/, git-ignored). parser:
#    every line of every tests/fixtures/**/*.log file, one per corpus file,
#    plus the crafted lines of tests/hardening/fuzz_seeds.txt and the
#    reproducers in tests/hardening/fuzz_regressions/. framing: runs of
#    fixture lines as octet-counted and newline-framed streams, cut into
#    reads of several sizes, and broken frames (huge counts, half-sent
#    frames, NULs). Inputs the fuzzer finds stay for the next run.
# 3. Runs each target for SECONDS. On a crash, leak, timeout or OOM it
#    prints the reproducer's path and how to replay it, and exits 1. Fix the
#    bug, then add a parser reproducer to tests/hardening/fuzz_regressions/
#    (see its README.md): the FuzzRegressions test replays it from then on.
#
# Environment: BUILD_DIR (build-fuzz), CORPUS_DIR (fuzz-corpus), ARTIFACT_DIR
# (where reproducers go; default the repository root, whose crash-*, leak-*,
# timeout-* names are git-ignored), CXX (clang++). The ctest "fuzz" tests set
# all three directories inside their build tree.
# Exit status: 0 no finding, 1 finding, 2 usage or build error.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
usage() {
  echo "usage: scripts/fuzz.sh [SECONDS] [parser|framing]..." >&2
  exit 2
}
seconds="${1:-60}"
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || ((seconds < 1)); then usage; fi
shift || true
targets=("$@")
((${#targets[@]} > 0)) || targets=(parser framing)
for t in "${targets[@]}"; do
  [[ "$t" == parser || "$t" == framing ]] || usage
done
build_dir="${BUILD_DIR:-$root/build-fuzz}"
corpus_root="${CORPUS_DIR:-$root/fuzz-corpus}"
artifact_dir="${ARTIFACT_DIR:-$root}"
cxx="${CXX:-clang++}"
if ! command -v "$cxx" >/dev/null; then
  echo "fuzz.sh: $cxx not found (scripts/install-deps.sh --test installs clang)" >&2
  exit 2
fi

binary_of() {
  case "$1" in
    parser) echo "$build_dir/parsers/parser_fuzzer" ;;
    framing) echo "$build_dir/exporter/sources/syslog_framing_fuzzer" ;;
  esac
}
cmake_targets=()
for t in "${targets[@]}"; do cmake_targets+=("$(basename "$(binary_of "$t")")"); done

echo "fuzz.sh: building ${cmake_targets[*]} with $cxx in $build_dir" >&2
mkdir -p "$build_dir"
if ! {
  cmake -S "$root" -B "$build_dir" -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DPSE_BUILD_FUZZERS=ON -DPSE_BUILD_TESTS=OFF -DPSE_SANITIZE=ON \
    -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link" >"$build_dir/fuzz-configure.log" 2>&1 &&
    cmake --build "$build_dir" --target "${cmake_targets[@]}" -j"$(nproc)" \
      >"$build_dir/fuzz-build.log" 2>&1
}; then
  echo "fuzz.sh: build failed; see $build_dir/fuzz-configure.log and $build_dir/fuzz-build.log:" >&2
  tail -n 30 "$build_dir/fuzz-configure.log" "$build_dir/fuzz-build.log" >&2 2>/dev/null || true
  exit 2
fi

mkdir -p "$corpus_root/parser" "$corpus_root/framing" "$artifact_dir"
python3 "$root/scripts/fuzz_seeds.py" "$root" "$corpus_root"

start_marker="$(mktemp)"
trap 'rm -f "$start_marker"' EXIT
status=0
for t in "${targets[@]}"; do
  fuzzer="$(binary_of "$t")"
  extra=()
  if [[ "$t" == parser ]]; then
    extra=(-max_len=4096 -dict="$root/tests/hardening/parser_fuzzer.dict")
  else
    extra=(-max_len=1024)
  fi
  echo "fuzz.sh: fuzzing $t for ${seconds}s" >&2
  # halt_on_error / abort_on_error make every sanitizer report a crash with a reproducer.
  ASAN_OPTIONS="${ASAN_OPTIONS:-halt_on_error=1:abort_on_error=1:detect_leaks=1}" \
  UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:abort_on_error=1:print_stacktrace=1}" \
    "$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 "${extra[@]}" \
    -print_final_stats=1 -artifact_prefix="$artifact_dir/$t-" "$corpus_root/$t" || status=$?
  ((status == 0)) || break
done

mapfile -t found < <(find "$artifact_dir" -maxdepth 1 -type f \
  \( -name '*crash-*' -o -name '*leak-*' -o -name '*timeout-*' -o -name '*oom-*' \
  -o -name '*slow-unit-*' \) -newer "$start_marker" | sort)
if ((status != 0)) || ((${#found[@]} > 0)); then
  echo >&2
  echo "fuzz.sh: FINDING (fuzzer exit status $status)" >&2
  for f in "${found[@]}"; do
    name="$(basename "$f")"
    echo "  reproducer: $f" >&2
    echo "  replay:     $(binary_of "${name%%-*}") $f" >&2
  done
  ((${#found[@]} > 0)) || echo "  no reproducer file was written; see the fuzzer output above" >&2
  exit 1
fi
for t in "${targets[@]}"; do
  echo "fuzz.sh: $t: no finding in ${seconds}s; corpus: $(find "$corpus_root/$t" -type f | wc -l) inputs" >&2
done
