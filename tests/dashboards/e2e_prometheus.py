#!/usr/bin/env python3
"""End-to-end test: the exporter, real Prometheus and real Alertmanager.

Starts, on loopback ports and with temporary config and data directories:
  - the exporter (argv[1]) following a scenario log this script writes,
  - Debian's prometheus-alertmanager,
  - Debian's prometheus, scraping the exporter (and one dead target in the
    same job) every second and evaluating a copy of
    dashboards/postfix-sasl-exporter-rules.yml every second, alerting to the
    Alertmanager.
Then appends a scenario (e2e_scenario.py) to the log (password guessing, a saslauthd outage,
open-relay probing, a burst of parallel submission sessions beyond the
saslauthd pool, master's process-limit warning, a client beyond the
connection count limit, AUTH rate limiting, the relay host rejecting the
smtp client's credentials, deliveries, bounces, the queue manager, cleanup
and milter rejects, postscreen) with timestamps of now, and
checks:
  - the metric families the exporter serves are exactly those listed in
    tests/dashboards/exported_metrics.txt (the list the static check uses);
  - every query of every dashboards/*.json (with $job / $instance set to the
    exporter's target and $__rate_interval = 1m) and every variable query
    returns data through the Prometheus HTTP API, except those reading a
    family in MAY_BE_EMPTY (journal-only, showq, opt-in, pending), which
    Prometheus must still accept;
  - the expected alerts reach Alertmanager (GET /api/v2/alerts), and every
    other alert of the rule file is neither pending nor firing in Prometheus
    nor present in Alertmanager.

The copy of the rule file differs from the shipped one in one way only: every
`for:` is shortened to 2s so that the test takes seconds, not minutes. Windows
([5m]) and thresholds are the shipped ones.

All waiting is polling with a bounded deadline. Every process it started is
stopped by pid, and the temporary directory is removed (unless --keep).
Python 3 standard library only.

Usage: e2e_prometheus.py EXPORTER [--prometheus PATH] [--alertmanager PATH]
                         [--root DIR] [--keep]
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import check_dashboards  # noqa: E402  (same directory; shares the dashboard/rule readers)
from e2e_scenario import (  # noqa: E402  (same directory; the scenario log)
    LogWriter, backend_outage, baseline, brute_force, client_limits, concurrency_burst,
    good_session, mail_flow, master_and_anvil, relay_credentials_rejected, relay_probing)

JOB = "postfix"
SHORT_FOR = "2s"
RATE_INTERVAL = "1m"
# Metrics only the journal source exports; with a file source their queries
# may return nothing.
SOURCE_SPECIFIC = {"postfix_exporter_journal_lag_seconds"}
# The queue, read from Postfix's showq socket only with --postfix.showq_path
# (tests/showq/test_showq_real.py runs it against a real Postfix queue), and
# the recording rule over it.
SHOWQ = {"postfix_showq_message_age_seconds", "postfix_showq_message_size_bytes", "postfix_up",
         "postfix:showq_messages:sum"}
# Per-account triage is opt-in: off here, so its queries return nothing
# (the dashboard's accounts-at-risk table is empty) and /metrics lacks them.
OPT_IN = {"postfix_smtpd_sasl_failures_by_username_total", "postfix_smtpd_sasl_messages_by_username_total",
          "postfix_smtpd_sasl_username_clients"}
# Queries reading only these may return no data.
MAY_BE_EMPTY = SOURCE_SPECIFIC | SHOWQ | OPT_IN
# Families created on their first line of mail flow or postscreen (the
# scenario writes smtpd lines only, and no reject_warning:) or only with
# --postfix.showq_path (the queue).
ON_FIRST_USE = {
    "postfix_bounce_notifications_total", "postfix_cleanup_messages_not_accepted_total",
    "postfix_cleanup_messages_processed_total", "postfix_cleanup_messages_rejected_total",
    "postfix_cleanup_milter_actions_total", "postfix_delivery_delay_seconds",
    "postfix_delivery_status_total", "postfix_lmtp_delivery_delay_seconds",
    "postfix_pipe_delivery_delay_seconds", "postfix_postscreen_actions_total",
    "postfix_qmgr_messages_expired_total", "postfix_qmgr_messages_inserted_receipients",
    "postfix_qmgr_messages_inserted_size_bytes", "postfix_qmgr_messages_removed_total",
    "postfix_smtp_connect_errors_total", "postfix_smtp_connection_timed_out_total",
    "postfix_smtp_delivery_delay_seconds", "postfix_smtp_deferred_messages_total",
    "postfix_smtp_tls_connections_total", "postfix_smtpd_forward_confirmed_reverse_dns_errors_total",
    "postfix_smtpd_tls_connections_total", "postfix_tls_connections_total",
    "postfix_showq_message_age_seconds", "postfix_showq_message_size_bytes", "postfix_up",
    "postfix_postscreen_sessions", "postfix_postscreen_sessions_max",
    "postfix_smtpd_reject_warnings_total",
} | OPT_IN
# What the scenario must set off, and on which target ("exporter" or "dead").
EXPECTED = {
    "PostfixSASLBruteForce": "exporter",
    "PostfixSASLBackendUnavailable": "exporter",
    "PostfixSASLFailuresDuringConcurrencyPeak": "exporter",
    "PostfixRelayDenialsSpike": "exporter",
    "PostfixMasterProcessLimitReached": "exporter",
    "PostfixSMTPDConnectionCountLimitExceeded": "exporter",
    "PostfixSMTPRelayCredentialsRejected": "exporter",
    "PostfixSASLBruteForceSingleSource": "exporter",
    "PostfixExporterDown": "dead",
}

STARTUP_DEADLINE = 30       # seconds for each server to answer
BASELINE_DEADLINE = 60      # Prometheus has scraped the baseline
SCENARIO_DEADLINE = 180     # dashboards answer and alerts arrive
SILENCE_CHECKS = 3          # rounds, 2 s apart, that the others stay silent


class E2EFailure(Exception):
    pass


# --------------------------------------------------------------------------
# Processes and HTTP.


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.read().decode("utf-8", "replace")


def get_json(url):
    status, body = http_get(url)
    return json.loads(body)


class Servers:
    def __init__(self, tmp):
        self.tmp = tmp
        self.procs = []  # (name, Popen, log path)

    def start(self, name, argv):
        log = os.path.join(self.tmp, f"{name}.log")
        f = open(log, "wb")
        p = subprocess.Popen(argv, stdout=f, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        f.close()
        self.procs.append((name, p, log))
        return p

    def wait_http(self, name, url, deadline_s):
        proc = [p for (n, p, _) in self.procs if n == name][0]
        end = time.monotonic() + deadline_s
        last = None
        while time.monotonic() < end:
            if proc.poll() is not None:
                raise E2EFailure(f"{name} exited with status {proc.returncode} during start-up:\n{self.tail(name)}")
            try:
                status, _ = http_get(url, timeout=2)
                if status == 200:
                    return
            except (urllib.error.URLError, OSError) as e:
                last = e
            time.sleep(0.25)
        raise E2EFailure(f"{name} did not answer {url} within {deadline_s}s ({last}):\n{self.tail(name)}")

    def check_alive(self):
        for name, p, _ in self.procs:
            if p.poll() is not None:
                raise E2EFailure(f"{name} exited with status {p.returncode}:\n{self.tail(name)}")

    def tail(self, name, n=30):
        for (nm, _, log) in self.procs:
            if nm == name:
                try:
                    with open(log, encoding="utf-8", errors="replace") as f:
                        return "".join(f.readlines()[-n:])
                except OSError:
                    return ""
        return ""

    def stop_all(self):
        for name, p, _ in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for name, p, _ in reversed(self.procs):
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=10)


# --------------------------------------------------------------------------
# Configuration files.


def shortened_rules(src, dst):
    with open(src, encoding="utf-8") as f:
        text = f.read()
    text, n = re.subn(r"^(\s+for:\s*)\S+\s*$", r"\g<1>" + SHORT_FOR, text, flags=re.M)
    with open(dst, "w", encoding="utf-8") as f:
        f.write(text)
    return n


def write_configs(tmp, rule_copies, am_port, exporter_target, dead_target):
    am = os.path.join(tmp, "alertmanager.yml")
    with open(am, "w", encoding="utf-8") as f:
        f.write("route:\n"
                "  receiver: blackhole\n"
                "  group_wait: 1s\n"
                "  group_interval: 1s\n"
                "  repeat_interval: 1h\n"
                "receivers:\n"
                "  - name: blackhole\n")
    prom = os.path.join(tmp, "prometheus.yml")
    with open(prom, "w", encoding="utf-8") as f:
        f.write("global:\n"
                "  scrape_interval: 1s\n"
                "  scrape_timeout: 1s\n"
                "  evaluation_interval: 1s\n"
                "rule_files:\n")
        for r in rule_copies:
            f.write(f"  - {json.dumps(r)}\n")
        f.write("alerting:\n"
                "  alertmanagers:\n"
                "    - api_version: v2\n"
                "      static_configs:\n"
                f"        - targets: ['127.0.0.1:{am_port}']\n"
                "scrape_configs:\n"
                f"  - job_name: {JOB}\n"
                "    static_configs:\n"
                f"      - targets: ['{exporter_target}', '{dead_target}']\n")
    return am, prom


# --------------------------------------------------------------------------
# Checks.


def substitute(expr, instance):
    return (expr.replace("$__rate_interval", RATE_INTERVAL)
                .replace("${__rate_interval}", RATE_INTERVAL)
                .replace('"$job"', json.dumps(re.escape(JOB)))
                .replace('"$instance"', json.dumps(re.escape(instance))))


def prom_query(prom, expr):
    url = f"http://{prom}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    try:
        doc = get_json(url)
    except urllib.error.HTTPError as e:
        body = e.read().decode("utf-8", "replace")
        raise E2EFailure(f"Prometheus rejected query {expr!r}: {e.code} {body}")
    if doc.get("status") != "success":
        raise E2EFailure(f"Prometheus query {expr!r} failed: {doc}")
    return doc["data"]["result"]


def dashboard_checks(root, instance):
    """[(description, promql, source_specific)] for every dashboard query and
    every variable query."""
    checks = []
    for path in check_dashboards.dashboard_files(root):
        with open(path, encoding="utf-8") as f:
            d = json.load(f)
        name = os.path.basename(path)
        for title, ref, expr in check_dashboards.dashboard_queries(d):
            # A query reading a family that may be absent may be empty as a
            # whole (a / b is empty without b).
            families = {check_dashboards.family_of(m, MAY_BE_EMPTY) for m in check_dashboards.metric_names(expr)}
            checks.append((f"{name}: {title} / {ref}", substitute(expr, instance),
                           bool(families & MAY_BE_EMPTY)))
        for var, query in check_dashboards.variable_queries(d):
            m = re.match(r"^\s*label_values\((.*),\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)\s*$", query)
            if not m:
                raise E2EFailure(f"{name}: variable {var}: cannot read {query!r}")
            checks.append((f"{name}: variable {var}",
                           f"count by ({m.group(2)}) ({substitute(m.group(1), instance)})", False))
    return checks


def alert_names(root):
    errors = []
    rules = check_dashboards.load_rules(root, errors)
    if errors:
        raise E2EFailure("cannot read the rule files: " + "; ".join(errors))
    return sorted(r["alert"] for (_, _, r) in rules if "alert" in r)


def am_alerts(am):
    return get_json(f"http://{am}/api/v2/alerts?active=true&silenced=true&inhibited=true&unprocessed=true")


def prom_alerts(prom):
    return get_json(f"http://{prom}/api/v1/alerts")["data"]["alerts"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("exporter", help="path of the postfix_sasl_exporter binary")
    ap.add_argument("--prometheus", default=shutil.which("prometheus") or "/usr/bin/prometheus")
    ap.add_argument("--alertmanager", default=shutil.which("prometheus-alertmanager")
                    or shutil.which("alertmanager") or "/usr/bin/prometheus-alertmanager")
    ap.add_argument("--root", default=os.path.dirname(os.path.dirname(HERE)))
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = ap.parse_args()
    for tool in (args.exporter, args.prometheus, args.alertmanager):
        if not (os.path.isfile(tool) and os.access(tool, os.X_OK)):
            print(f"FAIL: {tool} is not an executable (scripts/install-deps.sh --test installs "
                  f"prometheus and prometheus-alertmanager)")
            return 1

    # ctest's timeout or a ^C must still reach the finally below.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    tmp = tempfile.mkdtemp(prefix="pse-e2e-prom-")
    servers = Servers(tmp)
    ok = False
    try:
        ok = run(args, tmp, servers)
    except E2EFailure as e:
        print(f"FAIL: {e}")
    finally:
        servers.stop_all()
        if not ok:
            for name in ("exporter", "alertmanager", "prometheus"):
                print(f"--- last lines of {name}'s output ---\n{servers.tail(name, 15)}")
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0 if ok else 1


def run(args, tmp, servers):
    root = args.root
    exp_port, prom_port, am_port, dead_port = (free_port() for _ in range(4))
    exporter_target = f"127.0.0.1:{exp_port}"
    dead_target = f"127.0.0.1:{dead_port}"  # nothing listens: PostfixExporterDown
    prom = f"127.0.0.1:{prom_port}"
    am = f"127.0.0.1:{am_port}"
    targets = {"exporter": exporter_target, "dead": dead_target}

    rule_dir = os.path.join(tmp, "rules")
    os.makedirs(rule_dir)
    copies = []
    for src in check_dashboards.rule_files(root):
        dst = os.path.join(rule_dir, os.path.basename(src))
        n = shortened_rules(src, dst)
        print(f"rules: {os.path.basename(src)} with {n} for: durations set to {SHORT_FOR}")
        copies.append(dst)
    am_yml, prom_yml = write_configs(tmp, copies, am_port, exporter_target, dead_target)
    all_alerts = alert_names(root)
    missing = set(EXPECTED) - set(all_alerts)
    if missing:
        raise E2EFailure(f"expected alerts not in the rule files: {sorted(missing)}")

    log = os.path.join(tmp, "mail.log")
    w = LogWriter(log)
    w.append(baseline(w))

    servers.start("exporter", [args.exporter, f"--postfix.logfile_path={log}", "--postfix.logfile_from_beginning",
                               f"--web.listen-address={exporter_target}"])
    servers.wait_http("exporter", f"http://{exporter_target}/metrics", STARTUP_DEADLINE)
    servers.start("alertmanager", [args.alertmanager, f"--config.file={am_yml}",
                                   f"--storage.path={os.path.join(tmp, 'am-data')}",
                                   f"--web.listen-address={am}", "--cluster.listen-address=",
                                   "--log.level=warn"])
    servers.wait_http("alertmanager", f"http://{am}/-/ready", STARTUP_DEADLINE)
    servers.start("prometheus", [args.prometheus, f"--config.file={prom_yml}",
                                 f"--storage.tsdb.path={os.path.join(tmp, 'prom-data')}",
                                 f"--web.listen-address={prom}", "--log.level=warn"])
    servers.wait_http("prometheus", f"http://{prom}/-/ready", STARTUP_DEADLINE)
    print(f"servers up: exporter {exporter_target}, prometheus {prom}, alertmanager {am}")

    # Counters must have samples from before the scenario, or rate() and
    # increase() cannot see the scenario's increments.
    end = time.monotonic() + BASELINE_DEADLINE
    sel = f'postfix_exporter_log_lines_total{{job="{JOB}",instance="{exporter_target}"}}'
    while True:
        servers.check_alive()
        if prom_query(prom, f"count_over_time({sel}[1m]) >= 3"):
            break
        if time.monotonic() > end:
            raise E2EFailure(f"Prometheus has not scraped {sel} 3 times within {BASELINE_DEADLINE}s")
        time.sleep(0.5)
    print("baseline scraped; appending the scenario")

    # The scenario, in five chunks a scrape or two apart, so every counter
    # rises between samples whether or not its series existed before.
    for chunk in range(5):
        lines = []
        lines += good_session(w, "postfix/submission/smtpd", "mail.example.net[198.51.100.20]", "user0")
        lines += brute_force(w, 20)                  # 40 failures a chunk, 200 in all (> 60 in 5m)
        lines += relay_probing(w, 20)                # 100 in all (> 30 in 5m)
        lines += backend_outage(w, 3)
        lines += concurrency_burst(w, 7)             # 7 parallel > 5 workers
        lines += client_limits(w, 3)                 # 15 refused in all (> 10 in 15m)
        lines += relay_credentials_rejected(w)       # 5 in all (> 2 in 15m)
        lines += mail_flow(w)                        # smtp: 15 sent, 5 bounced, 5 deferred: 20% (< 25%)
        if chunk in (1, 3):
            lines += master_and_anvil(w)
        w.append(lines)
        time.sleep(1.5)
    scenario_end = time.monotonic() + SCENARIO_DEADLINE

    checks = dashboard_checks(root, exporter_target)
    print(f"{len(checks)} dashboard queries; waiting for data and for {len(EXPECTED)} alerts")
    pending_queries = {desc: (q, special) for (desc, q, special) in checks}
    expected_arrived = set()
    while True:
        servers.check_alive()
        for desc in list(pending_queries):
            q, special = pending_queries[desc]
            if prom_query(prom, q) or special:
                del pending_queries[desc]
        for a in am_alerts(am):
            name = a["labels"].get("alertname")
            if name in EXPECTED and a["labels"].get("instance") == targets[EXPECTED[name]]:
                expected_arrived.add(name)
        if not pending_queries and expected_arrived == set(EXPECTED):
            break
        if time.monotonic() > scenario_end:
            lines = [f"within {SCENARIO_DEADLINE}s:"]
            for desc, (q, _) in sorted(pending_queries.items()):
                lines.append(f"  dashboard query returned no data: {desc}: {q}")
            for name in sorted(set(EXPECTED) - expected_arrived):
                lines.append(f"  alert did not reach Alertmanager: {name} (instance {targets[EXPECTED[name]]})")
            firing = sorted({a["labels"]["alertname"] + "/" + a["state"] for a in prom_alerts(prom)})
            lines.append(f"  Prometheus alerts now: {firing}")
            raise E2EFailure("\n".join(lines))
        time.sleep(1)
    skipped = [d for (d, q, s) in checks if s and not prom_query(prom, q)]
    print("all dashboard queries return data" +
          (f" (empty, as allowed: source-specific, showq, opt-in or pending families: {skipped})"
           if skipped else ""))
    print(f"alerts in Alertmanager: {sorted(expected_arrived)}")

    # The other alerts stay silent: not in Alertmanager, neither pending nor
    # firing in Prometheus, checked over a few evaluation rounds.
    silent = [a for a in all_alerts if a not in EXPECTED]
    for _ in range(SILENCE_CHECKS):
        servers.check_alive()
        noisy = sorted({a["labels"]["alertname"] for a in am_alerts(am)} & set(silent))
        noisy += sorted({f"{a['labels']['alertname']} ({a['state']})" for a in prom_alerts(prom)
                         if a["labels"]["alertname"] in silent})
        unexpected_targets = sorted({f"{a['labels'].get('alertname')} on {a['labels'].get('instance')}"
                                     for a in am_alerts(am)
                                     if a["labels"].get("alertname") in EXPECTED
                                     and a["labels"].get("instance") != targets[EXPECTED[a["labels"]["alertname"]]]})
        if noisy or unexpected_targets:
            raise E2EFailure(f"alerts that should stay silent: {noisy + unexpected_targets}")
        time.sleep(2)
    print(f"silent as expected: {silent}")

    # The metric list the static check trusts is what the binary serves.
    listed = check_dashboards.load_exported_metrics(
        os.path.join(root, "tests", "dashboards", "exported_metrics.txt"), [])
    _, text = http_get(f"http://{exporter_target}/metrics")
    served = {m.group(1) for m in re.finditer(r"^# TYPE (\S+) \S+$", text, re.M)}
    missing = sorted(listed - served - SOURCE_SPECIFIC - ON_FIRST_USE - OPT_IN)
    extra = sorted(served - listed)
    if missing or extra:
        raise E2EFailure("tests/dashboards/exported_metrics.txt differs from the exporter's /metrics: "
                         f"listed but not served {missing}, served but not listed {extra}")
    print(f"exported_metrics.txt matches the {len(served)} metric families of /metrics")
    print("PASS")
    return True


if __name__ == "__main__":
    sys.exit(main())
