#!/usr/bin/env python3
"""State caps through the real binary (--once): floods that would grow state
without bound are held at --sessions.max_tracked, evictions are counted, and
memory does not grow with the flood.

Scenarios (all within ten minutes of log time, so idle expiry plays no part):
  sessions  100,000 `connect from` lines from distinct smtpd pids, never
            closed; with the default cap (16384) and with a small one (1000).
  clients   N SASL failure lines, each from a distinct client address and a
            distinct smtpd pid (a distributed brute force); default N is
            1,000,000, and N/10 for the growth check.

Assertions: postfix_exporter_sessions_tracked == cap;
session_evictions_total{reason="capacity"} == lines - cap exactly (and
{reason="idle_timeout"} == 0); open sessions == cap; every failure counted.
Memory (ru_maxrss of the child, skipped with --sanitized): every run below
--rss-limit-mib, and the peak after N clients exceeds the peak after 100k
sessions, and the peak after N/10 clients, by less than --growth-limit-mib:
state that grew with the input would add tens of MiB per 100k entries.

  state_caps.py BINARY [--sanitized] [--clients N] [--rss-limit-mib 64]
                [--growth-limit-mib 6]

N = 1,000,000 is ~110 MB of log and takes about a second in a normal build,
four under ASan, so the full size runs everywhere.
"""
import os
import shutil
import sys
import tempfile

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from once import base_args, check_rss, parse_args, run_measured  # noqa: E402  (and psetest)
from psetest import (CONNECTS, FAILURES, LINES, SESSIONS, check, check_samples,  # noqa: E402
                     log_line, run_main, sample_key, smtpd_program)

DEFAULT_CAP = 16384
TRACKED = 'postfix_exporter_sessions_tracked'
EVICTIONS = 'postfix_exporter_session_evictions_total'


def write_sessions(path, n):
    with open(path, 'w') as f:
        f.writelines(log_line(i * 600 // n, smtpd_program('smtp' if i % 2 else 'submission'),
                              200000 + i, 'connect from h[192.%d.%d.%d]'
                              % ((i >> 16) & 255, (i >> 8) & 255, i & 255), host='mx')
                     for i in range(n))


def write_clients(path, n):
    with open(path, 'w') as f:
        f.writelines(log_line(i * 600 // n, 'postfix/submission/smtpd', 100000 + i,
                              'warning: unknown[10.%d.%d.%d]: SASL LOGIN authentication failed: '
                              'UGFzc3dvcmQ6' % ((i >> 16) & 255, (i >> 8) & 255, i & 255),
                              host='mx')
                     for i in range(n))


def main():
    ap = base_args()
    ap.add_argument('--clients', type=int, default=1000000)
    ap.add_argument('--growth-limit-mib', type=float, default=6)
    args = parse_args(ap)
    n_clients = args.clients
    tmp = tempfile.mkdtemp(prefix='state_caps.')
    rss = {}

    def check_caps(what, res, lines, cap):
        check_samples(res.samples, {
            LINES: lines, TRACKED: cap,
            sample_key(EVICTIONS, {'reason': 'capacity'}): lines - cap,
            sample_key(EVICTIONS, {'reason': 'idle_timeout'}): 0}, what)
        rss[what] = res.maxrss_mib
        check_rss(args, what, res)

    try:
        sessions = os.path.join(tmp, 'sessions.log')
        write_sessions(sessions, 100000)
        for cap in (DEFAULT_CAP, 1000):
            flags = [] if cap == DEFAULT_CAP else ['--sessions.max_tracked=%d' % cap]
            what = 'sessions cap %d' % cap
            res = run_measured(args, sessions, *flags)
            check_caps(what, res, 100000, cap)
            check(res.samples.total(SESSIONS) == cap, '%s: open sessions %s, expected %d'
                  % (what, res.samples.total(SESSIONS), cap))
            check(res.samples.total(CONNECTS) == 100000, '%s: connects %s, expected 100000'
                  % (what, res.samples.total(CONNECTS)))
        os.unlink(sessions)

        for n in (n_clients // 10, n_clients):
            clients = os.path.join(tmp, 'clients.log')
            write_clients(clients, n)
            what = '%d clients' % n
            res = run_measured(args, clients)
            check_caps(what, res, n, DEFAULT_CAP)
            check_samples(res.samples, {sample_key(FAILURES, {
                'service': 'submission', 'method': 'LOGIN', 'reason': 'bad_credentials'}): n}, what)
            os.unlink(clients)

        if not args.sanitized:
            big = rss['%d clients' % n_clients]
            for base in ('sessions cap %d' % DEFAULT_CAP, '%d clients' % (n_clients // 10)):
                check(big - rss[base] < args.growth_limit_mib,
                      'peak RSS after %d clients (%.1f MiB) exceeds %s (%.1f MiB) by >= %.0f MiB'
                      % (n_clients, big, base, rss[base], args.growth_limit_mib))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    run_main(main)
