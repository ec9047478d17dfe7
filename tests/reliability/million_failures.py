#!/usr/bin/env python3
"""Reliability: one million failed logins from distinct addresses and user
names (a distributed brute force) through --once. Every failure is counted
exactly once and the peak RSS stays under --rss-limit-mib: no per-address or
per-user state grows without bound.

usage: million_failures.py EXPORTER (--maxrss TOOL | --sanitized)
                           [--failures N] [--rss-limit-mib 64]
"""
import os
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "hardening"))
from once import base_args, check_rss, parse_args, run_measured  # noqa: E402
from psetest import FAILURES, check, log_line, run_main, sample_key, smtpd_program  # noqa: E402

PIDS = 200  # smtpd processes; each serves many short sessions in turn


def write_log(path, failures):
    """Sessions of one failed PLAIN login each, from 10.x.y.z addresses and
    user names that are all distinct, spread over PIDS processes."""
    program = smtpd_program("submission")
    with open(path, "w") as f:
        for i in range(failures):
            pid = 1000 + i % PIDS
            addr = "10.%d.%d.%d" % (i >> 16 & 255, i >> 8 & 255, i & 255)
            second = i // 1000  # a thousand failures a second
            f.write(log_line(second, program, pid, "connect from unknown[%s]" % addr))
            f.write(log_line(second, program, pid,
                             "warning: unknown[%s]: SASL PLAIN authentication failed: "
                             "authentication failure, sasl_username=user%d@example.org" % (addr, i)))
            f.write(log_line(second, program, pid, "disconnect from unknown[%s] ehlo=1 auth=0/1 "
                             "quit=1 commands=2/3" % addr))


def main():
    ap = base_args(__doc__)
    ap.add_argument("--failures", type=int, default=1000000)
    args = parse_args(ap)
    with tempfile.TemporaryDirectory(prefix="pse-million-") as d:
        log = os.path.join(d, "mail.log")
        write_log(log, args.failures)
        res = run_measured(args, log, "--postfix.syslog_year=2024")
    got = res.samples.total(FAILURES)
    check(got == args.failures, "counted %s failures, wrote %d" % (got, args.failures))
    bad = res.samples.get(sample_key(FAILURES, {"method": "PLAIN", "reason": "bad_credentials",
                                                "service": "submission"}))
    check(bad == args.failures, "bad_credentials %s of %d" % (bad, args.failures))
    check_rss(args, "%d distinct failures" % args.failures, res)


if __name__ == "__main__":
    run_main(main)
