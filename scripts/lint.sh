#!/usr/bin/env bash
# Style gate run by scripts/test.sh: every C++ file matches .clang-format.
# (The -Werror half of the gate is test.sh's build with -DPSE_WERROR=ON.)
# Fix formatting with
#   clang-format -i FILE
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! command -v clang-format >/dev/null; then
  echo "lint: clang-format not found: run scripts/install-deps.sh --test" >&2
  exit 1
fi
mapfile -t files < <(git ls-files -co --exclude-standard '*.cc' '*.h' | grep -v '^tests/helm/node_modules/')
unformatted=()
for f in "${files[@]}"; do
  [[ -f $f ]] || continue
  if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
    unformatted+=("$f")
  fi
done
if ((${#unformatted[@]})); then
  echo "lint: not clang-formatted (run clang-format -i on them):" >&2
  printf '  %s\n' "${unformatted[@]}" >&2
  exit 1
fi
echo "lint: ${#files[@]} C++ files formatted"

