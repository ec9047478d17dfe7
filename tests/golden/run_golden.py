#!/usr/bin/env python3
"""Golden test: a fixture log through `--once`, compared with checked-in text.

usage: run_golden.py EXPORTER FIXTURE.log GOLDEN.prom [--update]

The exporter runs with TZ=UTC and --postfix.syslog_year=2024 so BSD
timestamps mean the same on every machine. The build_info labels (version,
revision) change with every commit and are normalised before comparing. The
output must also pass `promtool check metrics`; without promtool the test
fails (scripts/install-deps.sh --test installs it).
"""
import difflib
import os
import re
import subprocess
import sys

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from psetest import check, require_tool, run_main, run_once  # noqa: E402


def normalise(text):
    return re.sub(r'^postfix_exporter_build_info\{.*\} 1$',
                  'postfix_exporter_build_info{revision="X",version="X"} 1', text, flags=re.M)


def golden_test(exporter, fixture, golden, update):
    promtool = require_tool("promtool", "prometheus")
    out = run_once(exporter, ["--postfix.logfile_path=" + fixture, "--postfix.syslog_year=2024"],
                   timeout=60).text
    lint = subprocess.run([promtool, "check", "metrics"], input=out.encode(), capture_output=True)
    check(lint.returncode == 0, "promtool check metrics failed:\n"
          + lint.stdout.decode() + lint.stderr.decode())

    got = normalise(out)
    if update:
        with open(golden, "w") as f:
            f.write(got)
        print("updated", golden)
        return
    with open(golden) as f:
        want = f.read()
    if got != want:
        sys.stdout.writelines(difflib.unified_diff(want.splitlines(True), got.splitlines(True),
                                                   golden, "actual"))
    check(got == want, "golden mismatch for %s (rerun with --update after checking the diff)"
          % fixture)


def main():
    args = [a for a in sys.argv[1:] if a != "--update"]
    if len(args) != 3:
        sys.exit(__doc__)
    run_main(golden_test, *map(os.path.abspath, args), "--update" in sys.argv[1:])


if __name__ == "__main__":
    main()
