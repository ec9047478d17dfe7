#!/usr/bin/env bash
# The whole test suite from a fresh Debian 12 machine (as root): installs
# every build and test dependency, builds, and runs all tests with ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test
scripts/build.sh
cd "${BUILD_DIR:-build}"
ctest --output-on-failure --timeout 900 -j"$(nproc)"
