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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from once import Checker, base_args, parse_args, run_once  # noqa: E402

DEFAULT_CAP = 16384


def ts(sec):
    return 'Jul  5 12:%02d:%02d' % (sec // 60, sec % 60)


def write_sessions(path, n):
    with open(path, 'w') as f:
        f.writelines('%s mx %s[%d]: connect from h[192.%d.%d.%d]\n'
                     % (ts(i * 600 // n), 'postfix/smtpd' if i % 2 else 'postfix/submission/smtpd',
                        200000 + i, (i >> 16) & 255, (i >> 8) & 255, i & 255)
                     for i in range(n))


def write_clients(path, n):
    with open(path, 'w') as f:
        f.writelines('%s mx postfix/submission/smtpd[%d]: warning: unknown[10.%d.%d.%d]: '
                     'SASL LOGIN authentication failed: UGFzc3dvcmQ6\n'
                     % (ts(i * 600 // n), 100000 + i, (i >> 16) & 255, (i >> 8) & 255, i & 255)
                     for i in range(n))


def main():
    ap = base_args()
    ap.add_argument('--clients', type=int, default=1000000)
    ap.add_argument('--growth-limit-mib', type=float, default=6)
    args = parse_args(ap)
    n_clients = args.clients
    c = Checker()
    tmp = tempfile.mkdtemp(prefix='state_caps.')
    rss = {}

    def check_caps(what, res, lines, cap):
        c.eq(what + ': exit status', res.returncode, 0)
        c.eq(what + ': log_lines_total', res.value('postfix_exporter_log_lines_total'), lines)
        c.eq(what + ': sessions_tracked', res.value('postfix_exporter_sessions_tracked'), cap)
        c.eq(what + ': evictions{capacity}',
             res.value('postfix_exporter_session_evictions_total', reason='capacity'), lines - cap)
        c.eq(what + ': evictions{idle_timeout}',
             res.value('postfix_exporter_session_evictions_total', reason='idle_timeout'), 0)
        rss[what] = res.maxrss_mib
        if args.sanitized:
            print('info %s: peak RSS %s MiB (not checked in a sanitizer build)'
                      % (what, '?' if res.maxrss_mib is None else '%.1f' % res.maxrss_mib))
        else:
            c.true('%s: peak RSS %.1f MiB < %.0f MiB' % (what, res.maxrss_mib, args.rss_limit_mib),
                   res.maxrss_mib < args.rss_limit_mib)

    try:
        sessions = os.path.join(tmp, 'sessions.log')
        write_sessions(sessions, 100000)
        for cap in (DEFAULT_CAP, 1000):
            flags = [] if cap == DEFAULT_CAP else ['--sessions.max_tracked=%d' % cap]
            what = 'sessions cap %d' % cap
            res = run_once(args.binary, sessions, *flags, maxrss_tool=args.maxrss)
            check_caps(what, res, 100000, cap)
            c.eq(what + ': open sessions', res.total('postfix_smtpd_sessions'), cap)
            c.eq(what + ': connects', res.total('postfix_smtpd_connects_total'), 100000)
        os.unlink(sessions)

        for n in (n_clients // 10, n_clients):
            clients = os.path.join(tmp, 'clients.log')
            write_clients(clients, n)
            what = '%d clients' % n
            res = run_once(args.binary, clients, maxrss_tool=args.maxrss)
            check_caps(what, res, n, DEFAULT_CAP)
            c.eq(what + ': LOGIN bad_credentials',
                 res.value('postfix_smtpd_sasl_authentication_failures_total', service='submission',
                           method='LOGIN', reason='bad_credentials'), n)
            os.unlink(clients)

        if not args.sanitized:
            big = rss['%d clients' % n_clients]
            for base in ('sessions cap %d' % DEFAULT_CAP, '%d clients' % (n_clients // 10)):
                c.true('peak RSS after %d clients (%.1f MiB) exceeds %s (%.1f MiB) by < %.0f MiB'
                       % (n_clients, big, base, rss[base], args.growth_limit_mib),
                       big - rss[base] < args.growth_limit_mib)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    c.finish()


if __name__ == '__main__':
    main()
