#!/usr/bin/env python3
"""Attack-triage benchmark: N failed logins from N distinct addresses and
user names (3 log lines each, Postfix 3.9 form, 50 minutes of log time)
through `--once`, next to a run of the same shape in which every login
succeeds (no failure reaches triage). Prints CPU per line and peak RSS of
both, and checks the counts: failures exact, the by-client series summing to
them, the distinct gauges within 2%. The failure log runs once more with
--triage.enabled=false: the cost of triage is the difference (CPU per line,
and peak RSS).

With --top-usernames K both logs run again with --triage.top_usernames=K
(accounts at risk: every failure and every success names a new user), and
the cost of that feature is printed: CPU per line and peak RSS against the
same log without it, plus the by-username families summing exactly to the
failures and to the messages. Each run is repeated --repeat times and the
fastest kept (the machine is shared; RSS is the same every time). On a busy
machine CPU time swings by more than the feature costs (the runs with and
without triage alternate, so both see the same load): --instructions also
counts the instructions per line of each run under valgrind's callgrind
(exact and repeatable; use a smaller N, callgrind is ~50x slower), with and
without triage.

    bench/triage_attack.py build/postfix_sasl_exporter [N] [--top-usernames K] [--repeat R]
                           [--instructions] [--shuffle]
"""
import argparse
import os
import random
import re
import resource
import subprocess
import sys
import tempfile


TRIAGE_OFF = ["--triage.enabled=false"]


def write_log(path, n, fail, shuffle=False):
    """Login i comes from address and user number i, or with `shuffle` from
    a fixed random permutation of them (networks interleaved)."""
    order = list(range(n))
    if shuffle:
        random.Random(1).shuffle(order)
    with open(path, "w") as out:
        for i in range(n):
            t = i * 3000 // n
            ts = "Jul  5 %02d:%02d:%02d" % (10 + t // 3600, (t // 60) % 60, t % 60)
            j = order[i]
            a = "10.%d.%d.%d" % ((j >> 16) & 255, (j >> 8) & 255, j & 255)
            pid = 10000 + i % 50000
            p = "%s mx postfix/submission/smtpd[%d]: " % (ts, pid)
            out.write(p + "connect from unknown[%s]\n" % a)
            if fail:
                out.write(p + "warning: unknown[%s]: SASL LOGIN authentication failed: "
                          "(reason unavailable), sasl_username=user%d\n" % (a, j))
            else:
                out.write(p + "Q%07X: client=unknown[%s], sasl_method=LOGIN, sasl_username=user%d\n"
                          % (i, a, j))
            out.write(p + "disconnect from unknown[%s] ehlo=1 auth=%s quit=1 commands=2/3\n"
                      % (a, "0/1" if fail else "1"))


def run_once(exporter, log, extra=()):
    """(CPU seconds, peak RSS KiB, output) of one --once run. CPU from the
    children's rusage (microseconds; /usr/bin/time's is 10 ms), RSS from
    /usr/bin/time."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    r = subprocess.run(["/usr/bin/time", "-f", "%M", exporter, "--once",
                        "--postfix.logfile_path=" + log, "--postfix.syslog_year=2024"]
                       + list(extra), capture_output=True, text=True, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, int(r.stderr.strip().splitlines()[-1]), r.stdout


def run(exporter, log, extra=(), repeat=1):
    """run_once's result with the least CPU of `repeat` runs."""
    return min((run_once(exporter, log, extra) for _ in range(repeat)), key=lambda g: g[0])


def run_pair(exporter, log, extra_a, extra_b, repeat):
    """The fastest of `repeat` runs each with `extra_a` and with `extra_b`,
    taken in turns, so both see the same load on a shared machine."""
    a = b = None
    for _ in range(repeat):
        got = run_once(exporter, log, extra_a)
        a = got if a is None or got[0] < a[0] else a
        got = run_once(exporter, log, extra_b)
        b = got if b is None or got[0] < b[0] else b
    return a, b


def instructions(exporter, log, extra=()):
    """Instructions callgrind counts for one --once run over `log`."""
    r = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
                        exporter, "--once", "--postfix.logfile_path=" + log,
                        "--postfix.syslog_year=2024"] + list(extra),
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=True)
    return int(re.search(r"Collected : (\d+)", r.stderr).group(1))


def total(text, family):
    return sum(float(v) for v in re.findall(r"^%s(?:\{.*\})? (\S+)$" % family, text, re.M))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("exporter")
    ap.add_argument("n", nargs="?", type=int, default=1000000)
    ap.add_argument("--top-usernames", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--instructions", action="store_true")
    ap.add_argument("--shuffle", action="store_true",
                    help="logins in random order: the networks interleave (the sketch evicts)")
    args = ap.parse_args()
    n = args.n
    lines = 3 * n
    ok = True
    with tempfile.TemporaryDirectory() as d:
        fail_log, ok_log = os.path.join(d, "fail.log"), os.path.join(d, "ok.log")
        write_log(fail_log, n, True, args.shuffle)
        write_log(ok_log, n, False, args.shuffle)
        cpu_ok, rss_ok, _ = run(args.exporter, ok_log, repeat=args.repeat)
        (cpu_fail, rss_fail, text), (cpu_off, rss_off, _) = run_pair(
            args.exporter, fail_log, [], TRIAGE_OFF, args.repeat)
        print("successes: %.0f ns/line, peak RSS %d KiB" % (cpu_ok / lines * 1e9, rss_ok))
        print("failures:  %.0f ns/line, peak RSS %d KiB (+%d KiB)"
              % (cpu_fail / lines * 1e9, rss_fail, rss_fail - rss_ok))
        print("failures with %s: %.0f ns/line, peak RSS %d KiB; triage costs %+.1f%% CPU, "
              "%+d KiB" % (TRIAGE_OFF[0], cpu_off / lines * 1e9, rss_off,
                           100 * (cpu_fail / cpu_off - 1), rss_fail - rss_off))
        if args.instructions:
            with_t = instructions(args.exporter, fail_log)
            without = instructions(args.exporter, fail_log, TRIAGE_OFF)
            print("failures: %.0f instructions/line, %.0f with %s; triage costs %+.1f%% "
                  "(%.0f instructions per failure)"
                  % (with_t / lines, without / lines, TRIAGE_OFF[0],
                     100.0 * (with_t / without - 1), (with_t - without) / n))
        failures = total(text, "postfix_smtpd_sasl_authentication_failures_total")
        by_client = total(text, "postfix_smtpd_sasl_failures_by_client_total")
        clients = total(text, "postfix_smtpd_sasl_failing_clients")
        users = total(text, "postfix_smtpd_sasl_failing_usernames")
        print("failures %d, by-client sum %d, failing clients %d, failing usernames %d"
              % (failures, by_client, clients, users))
        ok = failures == n and by_client == n and abs(clients - n) <= 0.02 * n \
            and abs(users - n) <= 0.02 * n
        if args.top_usernames:
            flag = ["--triage.top_usernames=%d" % args.top_usernames]
            cpu_okk, rss_okk, text_ok = run(args.exporter, ok_log, flag, args.repeat)
            cpu_failk, rss_failk, text = run(args.exporter, fail_log, flag, args.repeat)
            print("with %s:" % flag[0])
            print("successes: %.0f ns/line (%+.1f%%), peak RSS %d KiB (%+d KiB)"
                  % (cpu_okk / lines * 1e9, 100 * (cpu_okk / cpu_ok - 1), rss_okk,
                     rss_okk - rss_ok))
            print("failures:  %.0f ns/line (%+.1f%%), peak RSS %d KiB (%+d KiB)"
                  % (cpu_failk / lines * 1e9, 100 * (cpu_failk / cpu_fail - 1), rss_failk,
                     rss_failk - rss_fail))
            by_user = total(text, "postfix_smtpd_sasl_failures_by_username_total")
            by_msg = total(text_ok, "postfix_smtpd_sasl_messages_by_username_total")
            print("by-username failures sum %d, by-username messages sum %d" % (by_user, by_msg))
            ok = ok and by_user == n and by_msg == n \
                and total(text, "postfix_smtpd_sasl_authentication_failures_total") == n
            if args.instructions:
                for what, log in (("successes", ok_log), ("failures", fail_log)):
                    base = instructions(args.exporter, log)
                    with_k = instructions(args.exporter, log, flag)
                    print("%s: %.0f instructions/line, %.0f with %s (%+.1f%%)"
                          % (what, base / lines, with_k / lines, flag[0],
                             100.0 * (with_k / base - 1)))
    print("counts OK" if ok else "COUNTS WRONG")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
