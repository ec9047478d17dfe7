#!/usr/bin/env bash
# Assembles the build context of packaging/Containerfile: the exporter, the
# shared libraries it loads (its `ldd` closure) and the dynamic loader, at the
# paths the loader looks for them, plus the few files a non-root process needs.
#
#   packaging/collect-rootfs.sh [--no-strip] EXPORTER_BINARY CONTEXT_DIR
#   buildah bud -f packaging/Containerfile -t postfix-sasl-exporter CONTEXT_DIR
#   (or: podman build / docker build -f packaging/Containerfile CONTEXT_DIR)
#
# CONTEXT_DIR/rootfs/ becomes the image's /. The copy of the binary is stripped
# (the build tree keeps its debug info) unless --no-strip. Libraries are copied
# with symlinks resolved, under the name the binary asks for, in the directory
# ldd found them in: with no /etc/ld.so.cache in the image the loader searches
# its built-in directories, which include /lib/<multiarch> and
# /usr/lib/<multiarch>.
set -euo pipefail

strip_binary=1
if [[ "${1:-}" == "--no-strip" ]]; then
  strip_binary=0
  shift
fi
if (($# != 2)); then
  sed -n '2,15p' "$0" >&2
  exit 2
fi
binary=$1
context=$2
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"

[[ -x $binary ]] || { echo "collect-rootfs: $binary is not an executable" >&2; exit 1; }
if [[ -e $context/rootfs ]]; then
  echo "collect-rootfs: $context/rootfs exists; use an empty directory" >&2
  exit 1
fi
rootfs=$context/rootfs
mkdir -p "$rootfs/usr/bin" "$rootfs/etc" "$rootfs/tmp" \
         "$rootfs/usr/share/postfix-sasl-exporter/examples"
# Copied with --chown to the exporter's user: the place for position/cursor
# files when the image runs without a volume there.
mkdir -p "$context/state"
chmod 1777 "$rootfs/tmp"

install -m 0755 "$binary" "$rootfs/usr/bin/postfix_sasl_exporter"
if ((strip_binary)); then
  strip --strip-unneeded "$rootfs/usr/bin/postfix_sasl_exporter"
fi

# `ldd` lines: "libz.so.1 => /lib/x86_64-linux-gnu/libz.so.1 (0x...)" and the
# loader "/lib64/ld-linux-x86-64.so.2 (0x...)"; linux-vdso has no file.
ldd_out=$(ldd "$binary")
if grep -q "not found" <<<"$ldd_out"; then
  echo "collect-rootfs: unresolved libraries:" >&2
  grep "not found" <<<"$ldd_out" >&2
  exit 1
fi
mapfile -t libs < <(awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' <<<"$ldd_out")
((${#libs[@]} > 0)) || { echo "collect-rootfs: ldd found no libraries (static binary?)" >&2; exit 1; }
for lib in "${libs[@]}"; do
  mkdir -p "$rootfs$(dirname "$lib")"
  # -L: the image holds a regular file under the soname, not a dangling link.
  cp -L "$lib" "$rootfs$lib"
  chmod 0644 "$rootfs$lib"
done
# The loader must stay executable (it is run directly via PT_INTERP).
interp=$(awk '$1 ~ /^\// { print $1 }' <<<"$ldd_out")
[[ -n $interp ]] && chmod 0755 "$rootfs$interp"

# Name service: a non-root user (nobody, uid/gid 65534, as the Helm chart's
# securityContext) and name lookup from files (listen addresses like
# localhost:9154). glibc >= 2.34 has the files and dns modules built in.
cat >"$rootfs/etc/passwd" <<'EOF'
root:x:0:0:root:/:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
EOF
cat >"$rootfs/etc/group" <<'EOF'
root:x:0:
nogroup:x:65534:
EOF
cat >"$rootfs/etc/nsswitch.conf" <<'EOF'
passwd: files
group: files
hosts: files dns
EOF
cat >"$rootfs/etc/hosts" <<'EOF'
127.0.0.1 localhost
::1 localhost ip6-localhost ip6-loopback
EOF

# A sample log, for a first look:
#   podman run --rm IMAGE --once --postfix.logfile_path=/usr/share/postfix-sasl-exporter/examples/mail.log
install -m 0644 "$repo/examples/mail.log" "$rootfs/usr/share/postfix-sasl-exporter/examples/mail.log"

echo "collect-rootfs: $(find "$rootfs" -type f | wc -l) files, $(du -sh "$rootfs" | cut -f1) in $rootfs"
