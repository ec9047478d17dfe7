#!/usr/bin/env bash
# The whole test suite from a fresh Debian 12 machine (as root): installs
# every build and test dependency, checks formatting (scripts/lint.sh),
# builds with warnings as errors in product code, runs all tests with ctest, then
# runs the suite again in an AddressSanitizer + UBSan build
# (scripts/test-sanitize.sh; SKIP_SANITIZE=1 skips that second pass).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test
scripts/lint.sh
scripts/build.sh -DPSE_WERROR=ON
(cd "${BUILD_DIR:-build}" && ctest --output-on-failure --timeout 900 -j"$(nproc)")
if [[ "${SKIP_SANITIZE:-0}" != 1 ]]; then
  scripts/test-sanitize.sh
fi
