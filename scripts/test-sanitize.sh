#!/usr/bin/env bash
# The test suite in an AddressSanitizer + UndefinedBehaviorSanitizer build
# (CMake option PSE_SANITIZE=ON): every unit test, golden, integration and
# hardening test runs against instrumented code, so a memory error, leak or
# undefined behaviour anywhere fails the test that triggered it.
#
#   scripts/test-sanitize.sh [CTEST_ARGS...]     e.g. -L hardening, -R golden
#
# Builds in build-asan/ (BUILD_DIR overrides). Left out, with -E/-LE:
#  - e2e, helm, packaging, dashboards.e2e: they exercise real Postfix,
#    Prometheus, the Helm chart or the .deb, not more of our code paths, and
#    are the slowest part of the suite;
#  - the "fuzz" label: scripts/fuzz.sh builds its own clang ASan+UBSan fuzzer.
# Memory bounds (peak RSS) in the hardening scripts are not checked here:
# ASan's shadow memory and quarantine make RSS meaningless; counts are.
#
# scripts/test.sh (the README's test command, and CI) runs it after the
# normal suite; it is a second full build (about 3 minutes on 2 cores).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
build="${BUILD_DIR:-build-asan}"

scripts/install-deps.sh --test
cmake -S . -B "$build" -DPSE_SANITIZE=ON
cmake --build "$build" -j"$(nproc)"

# abort_on_error: a report kills the process (ctest sees the failure even if
# a harness ignores exit codes); detect_leaks: LeakSanitizer at exit.
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:strict_string_checks=1:check_initialization_order=1:detect_stack_use_after_return=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
ctest --test-dir "$build" --output-on-failure --timeout 900 -j"$(nproc)" \
  -E 'e2e|helm|packaging|dashboards\.e2e' -LE fuzz "$@"
