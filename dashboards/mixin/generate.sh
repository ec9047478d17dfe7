#!/bin/sh
# Renders the mixin into the shipped files, or checks that they are current.
#
#   generate.sh                       write dashboards/*.yml and *.json
#   generate.sh --check               fail (with a diff) if they differ from
#                                     a fresh rendering
#   generate.sh -c CONFIG -o DIR      render with CONFIG (a jsonnet object
#                                     merged over the mixin, e.g.
#                                     { _config+:: { selector: 'job="mail"' } })
#                                     into DIR
#
# Needs only `jsonnet` (Debian package jsonnet, 0.18 or later).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
out=$(dirname "$here")
config=
check=0
while [ $# -gt 0 ]; do
  case "$1" in
    --check) check=1 ;;
    -c) config=$2; shift ;;
    -o) out=$2; shift ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "generate.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

command -v jsonnet >/dev/null 2>&1 || {
  echo "generate.sh: jsonnet not found (apt-get install jsonnet, or scripts/install-deps.sh --test)" >&2
  exit 1
}

render() {
  if [ -n "$config" ]; then
    jsonnet -J "$here" --ext-code-file "overrides=$config" -S -m "$1" "$here/render.jsonnet" >/dev/null
  else
    jsonnet -J "$here" --ext-code 'overrides={}' -S -m "$1" "$here/render.jsonnet" >/dev/null
  fi
}

if [ "$check" = 0 ]; then
  mkdir -p "$out"
  render "$out"
  exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
render "$tmp"
status=0
for f in "$tmp"/*; do
  name=$(basename "$f")
  if ! cmp -s "$f" "$out/$name"; then
    echo "$out/$name differs from the mixin's output; run dashboards/mixin/generate.sh:"
    diff -u "$out/$name" "$f" | head -40 || true
    status=1
  fi
done
exit $status
