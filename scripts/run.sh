#!/usr/bin/env bash
# Installs what is needed, builds, and runs the exporter on this host's
# Postfix log: /var/log/mail.log if it exists, else the systemd journal if
# Postfix logs there, else the sample log shipped in examples/mail.log (so a
# first look shows real SASL, session and relay numbers).
# Metrics: http://localhost:9154/metrics . Extra arguments go to the exporter.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
args=()
if [[ -r /var/log/mail.log ]]; then
  args=(--postfix.logfile_path=/var/log/mail.log)
elif command -v journalctl >/dev/null && [[ -d /run/systemd/journal ]] &&
  [[ -n "$(journalctl -q -n 1 _SYSTEMD_SLICE=system-postfix.slice + _SYSTEMD_UNIT=postfix.service 2>/dev/null)" ]]; then
  args=(--systemd.enable)
else
  echo "run.sh: no Postfix log on this machine; serving the sample log examples/mail.log" >&2
  args=(--postfix.logfile_path="$PWD/examples/mail.log" --postfix.logfile_from_beginning)
fi
exec build/postfix_sasl_exporter "${args[@]}" "$@"
