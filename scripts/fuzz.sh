#!/usr/bin/env bash
# Fuzzes the log parsers (parsers/parser_fuzzer.cc: syslog framing + Postfix
# parser) with libFuzzer under AddressSanitizer and UndefinedBehaviorSanitizer.
#
#   scripts/fuzz.sh [SECONDS]        fuzz for SECONDS (default 60)
#
# 1. Builds the fuzzer with clang++ in build-fuzz/ (PSE_BUILD_FUZZERS=ON,
#    PSE_SANITIZE=ON, and -fsanitize=fuzzer-no-link on everything so the
#    parser library itself is coverage-instrumented, not just the harness).
# 2. Seeds the corpus (fuzz-corpus/, git-ignored) with every line of every
#    tests/fixtures/**/*.log file, one line per corpus file, plus the crafted
#    lines of tests/hardening/fuzz_seeds.txt and the reproducers in
#    tests/hardening/fuzz_regressions/. Inputs the fuzzer finds stay in the
#    corpus for the next run.
# 3. Runs for SECONDS. On a crash, leak, timeout or OOM it prints the
#    reproducer's path and how to replay it, and exits 1. Fix the bug, then
#    add the reproducer to tests/hardening/fuzz_regressions/ (see its
#    README.md): the FuzzRegressions test replays it from then on.
#
# Environment: BUILD_DIR (build-fuzz), CORPUS_DIR (fuzz-corpus), ARTIFACT_DIR
# (where reproducers go; default the repository root, whose crash-*, leak-*,
# timeout-* names are git-ignored), CXX (clang++). The ctest "fuzz" test sets
# all three directories inside its build tree.
# Exit status: 0 no finding, 1 finding, 2 usage or build error.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
seconds="${1:-60}"
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || ((seconds < 1)); then
  echo "usage: scripts/fuzz.sh [SECONDS]" >&2
  exit 2
fi
build_dir="${BUILD_DIR:-$root/build-fuzz}"
corpus_dir="${CORPUS_DIR:-$root/fuzz-corpus}"
artifact_dir="${ARTIFACT_DIR:-$root}"
cxx="${CXX:-clang++}"
if ! command -v "$cxx" >/dev/null; then
  echo "fuzz.sh: $cxx not found (scripts/install-deps.sh --test installs clang)" >&2
  exit 2
fi

echo "fuzz.sh: building parser_fuzzer with $cxx in $build_dir" >&2
mkdir -p "$build_dir"
if ! {
  cmake -S "$root" -B "$build_dir" -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DPSE_BUILD_FUZZERS=ON -DPSE_BUILD_TESTS=OFF -DPSE_SANITIZE=ON \
    -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link" >"$build_dir/fuzz-configure.log" 2>&1 &&
    cmake --build "$build_dir" --target parser_fuzzer -j"$(nproc)" >"$build_dir/fuzz-build.log" 2>&1
}; then
  echo "fuzz.sh: build failed; see $build_dir/fuzz-configure.log and $build_dir/fuzz-build.log:" >&2
  tail -n 30 "$build_dir/fuzz-configure.log" "$build_dir/fuzz-build.log" >&2 2>/dev/null || true
  exit 2
fi
fuzzer="$build_dir/parsers/parser_fuzzer"

mkdir -p "$corpus_dir" "$artifact_dir"
python3 - "$root" "$corpus_dir" <<'EOF'
import glob, hashlib, os, sys
root, corpus = sys.argv[1], sys.argv[2]
seeds = []
for path in sorted(glob.glob(os.path.join(root, 'tests/fixtures/**/*.log'), recursive=True)):
    with open(path, 'rb') as f:
        seeds += [l for l in f.read().split(b'\n') if l]
with open(os.path.join(root, 'tests/hardening/fuzz_seeds.txt'), 'rb') as f:
    seeds += [l for l in f.read().split(b'\n') if l and not l.startswith(b'#')]
for path in sorted(glob.glob(os.path.join(root, 'tests/hardening/fuzz_regressions/*'))):
    if os.path.basename(path) != 'README.md':
        with open(path, 'rb') as f:
            seeds.append(f.read())
added = 0
for s in seeds:
    # libFuzzer's own naming: the SHA-1 of the content, so re-seeding is idempotent.
    name = os.path.join(corpus, hashlib.sha1(s).hexdigest())
    if not os.path.exists(name):
        with open(name, 'wb') as f:
            f.write(s)
        added += 1
print('fuzz.sh: %d seed inputs (%d new) in %s' % (len(seeds), added, corpus), file=sys.stderr)
EOF

start_marker="$(mktemp)"
trap 'rm -f "$start_marker"' EXIT
echo "fuzz.sh: fuzzing for ${seconds}s" >&2
status=0
# halt_on_error / abort_on_error make every sanitizer report a crash with a reproducer.
ASAN_OPTIONS="${ASAN_OPTIONS:-halt_on_error=1:abort_on_error=1:detect_leaks=1}" \
UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:abort_on_error=1:print_stacktrace=1}" \
  "$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
  -dict="$root/tests/hardening/parser_fuzzer.dict" -print_final_stats=1 \
  -artifact_prefix="$artifact_dir/" "$corpus_dir" || status=$?

mapfile -t found < <(find "$artifact_dir" -maxdepth 1 -type f \
  \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' -o -name 'slow-unit-*' \) \
  -newer "$start_marker" | sort)
if ((status != 0)) || ((${#found[@]} > 0)); then
  echo >&2
  echo "fuzz.sh: FINDING (fuzzer exit status $status)" >&2
  for f in "${found[@]}"; do
    echo "  reproducer: $f" >&2
    echo "  replay:     $fuzzer $f" >&2
  done
  ((${#found[@]} > 0)) || echo "  no reproducer file was written; see the fuzzer output above" >&2
  exit 1
fi
echo "fuzz.sh: no finding in ${seconds}s; corpus: $(find "$corpus_dir" -type f | wc -l) inputs" >&2
