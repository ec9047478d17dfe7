#!/usr/bin/env python3
"""Golden test: a fixture log through `--once`, compared with checked-in text.

usage: run_golden.py EXPORTER FIXTURE.log GOLDEN.prom [--update]

The exporter runs with TZ=UTC and --postfix.syslog_year=2024 so BSD
timestamps mean the same on every machine. The build_info labels (version,
revision) change with every commit and are normalised before comparing. The
output must also pass `promtool check metrics` when promtool is installed
(scripts/install-deps.sh --test installs it; CI always has it).
"""
import difflib
import os
import re
import shutil
import subprocess
import sys


def run_exporter(exporter, fixture):
    env = dict(os.environ, TZ="UTC")
    proc = subprocess.run(
        [exporter, "--once", "--postfix.logfile_path=" + fixture, "--postfix.syslog_year=2024"],
        capture_output=True, env=env, timeout=60)
    if proc.returncode != 0:
        sys.exit("exporter exited %d: %s" % (proc.returncode, proc.stderr.decode(errors="replace")))
    return proc.stdout.decode()


def normalise(text):
    return re.sub(r'^postfix_exporter_build_info\{.*\} 1$',
                  'postfix_exporter_build_info{revision="X",version="X"} 1', text, flags=re.M)


def main():
    args = [a for a in sys.argv[1:] if a != "--update"]
    update = "--update" in sys.argv[1:]
    if len(args) != 3:
        sys.exit(__doc__)
    exporter, fixture, golden = args
    out = run_exporter(exporter, fixture)

    promtool = shutil.which("promtool")
    if promtool is None:
        sys.exit("promtool not found: run scripts/install-deps.sh --test")
    check = subprocess.run([promtool, "check", "metrics"], input=out.encode(), capture_output=True)
    if check.returncode != 0:
        sys.exit("promtool check metrics failed:\n" + check.stdout.decode() + check.stderr.decode())

    got = normalise(out)
    if update:
        with open(golden, "w") as f:
            f.write(got)
        print("updated", golden)
        return
    with open(golden) as f:
        want = f.read()
    if got != want:
        diff = difflib.unified_diff(want.splitlines(True), got.splitlines(True), golden, "actual")
        sys.stdout.writelines(diff)
        sys.exit("golden mismatch for %s (rerun with --update after checking the diff)" % fixture)
    print("ok", os.path.basename(fixture))


if __name__ == "__main__":
    main()
