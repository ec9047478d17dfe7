#!/usr/bin/env python3
"""Attack-triage benchmark: N failed logins from N distinct addresses and
user names (3 log lines each, Postfix 3.9 form, 50 minutes of log time)
through `--once`, next to a run of the same shape in which every login
succeeds (no failure reaches triage). Prints CPU per line and peak RSS of
both, and checks the counts: failures exact, the by-client series summing to
them, the distinct gauges within 2%.

    bench/triage_attack.py build/postfix_sasl_exporter [N]
"""
import os
import re
import subprocess
import sys
import tempfile


def write_log(path, n, fail):
    with open(path, "w") as out:
        for i in range(n):
            t = i * 3000 // n
            ts = "Jul  5 %02d:%02d:%02d" % (10 + t // 3600, (t // 60) % 60, t % 60)
            a = "10.%d.%d.%d" % ((i >> 16) & 255, (i >> 8) & 255, i & 255)
            pid = 10000 + i % 50000
            p = "%s mx postfix/submission/smtpd[%d]: " % (ts, pid)
            out.write(p + "connect from unknown[%s]\n" % a)
            if fail:
                out.write(p + "warning: unknown[%s]: SASL LOGIN authentication failed: "
                          "(reason unavailable), sasl_username=user%d\n" % (a, i))
            else:
                out.write(p + "Q%07X: client=unknown[%s], sasl_method=LOGIN, sasl_username=user%d\n"
                          % (i, a, i))
            out.write(p + "disconnect from unknown[%s] ehlo=1 auth=%s quit=1 commands=2/3\n"
                      % (a, "0/1" if fail else "1"))


def run(exporter, log):
    r = subprocess.run(["/usr/bin/time", "-f", "%U %S %M", exporter, "--once",
                        "--postfix.logfile_path=" + log, "--postfix.syslog_year=2024"],
                       capture_output=True, text=True, check=True)
    user, sys_, rss = r.stderr.strip().splitlines()[-1].split()
    return float(user) + float(sys_), int(rss), r.stdout


def total(text, family):
    return sum(float(v) for v in re.findall(r"^%s(?:\{.*\})? (\S+)$" % family, text, re.M))


def main():
    exporter = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 1000000
    with tempfile.TemporaryDirectory() as d:
        fail_log, ok_log = os.path.join(d, "fail.log"), os.path.join(d, "ok.log")
        write_log(fail_log, n, True)
        write_log(ok_log, n, False)
        cpu_ok, rss_ok, _ = run(exporter, ok_log)
        cpu_fail, rss_fail, text = run(exporter, fail_log)
    lines = 3 * n
    print("successes: %.0f ns/line, peak RSS %d KiB" % (cpu_ok / lines * 1e9, rss_ok))
    print("failures:  %.0f ns/line, peak RSS %d KiB (+%d KiB)"
          % (cpu_fail / lines * 1e9, rss_fail, rss_fail - rss_ok))
    failures = total(text, "postfix_smtpd_sasl_authentication_failures_total")
    by_client = total(text, "postfix_smtpd_sasl_failures_by_client_total")
    clients = total(text, "postfix_smtpd_sasl_failing_clients")
    users = total(text, "postfix_smtpd_sasl_failing_usernames")
    print("failures %d, by-client sum %d, failing clients %d, failing usernames %d"
          % (failures, by_client, clients, users))
    ok = failures == n and by_client == n and abs(clients - n) <= 0.02 * n \
        and abs(users - n) <= 0.02 * n
    print("counts OK" if ok else "COUNTS WRONG")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
