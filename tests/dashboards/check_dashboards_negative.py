#!/usr/bin/env python3
"""Negative self-test of check_dashboards.py: it must reject broken files.

Copies dashboards/, docs/runbook.md, docs/runbook/ and tests/dashboards/exported_metrics.txt
into a temporary tree, checks that the unmodified copy passes, then applies
one violation at a time and checks that check_dashboards.py (or, for a
shipped file edited by hand, dashboards/mixin/generate.sh --check) fails
with the expected message.

Usage: check_dashboards_negative.py [--root DIR]
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
CHECKER = os.path.join(HERE, "check_dashboards.py")
DASH = os.path.join("dashboards", "postfix-sasl-exporter-overview.json")
FLEET = os.path.join("dashboards", "postfix-sasl-exporter-fleet.json")
RULES = os.path.join("dashboards", "postfix-sasl-exporter-rules.yml")
METRICS = os.path.join("tests", "dashboards", "exported_metrics.txt")
RUNBOOK = os.path.join("docs", "runbook", "sasl.md")
GENERATE = os.path.join("dashboards", "mixin", "generate.sh")


def edit_json(rel, fn):
    def apply(tree):
        path = os.path.join(tree, rel)
        with open(path, encoding="utf-8") as f:
            d = json.load(f)
        fn(d)
        with open(path, "w", encoding="utf-8") as f:
            json.dump(d, f, indent=2)
    return apply


def edit_text(rel, old, new):
    def apply(tree):
        path = os.path.join(tree, rel)
        with open(path, encoding="utf-8") as f:
            text = f.read()
        if old not in text:
            raise AssertionError(f"mutation target {old!r} not in {rel}: the self-test is stale")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text.replace(old, new, 1))
    return apply


def panels(d):
    return [p for p in d["panels"] if p.get("type") != "row"]


def first_target(d):
    return panels(d)[0]["targets"][0]


def set_expr(fn):
    def mutate(d):
        t = first_target(d)
        t["expr"] = fn(t["expr"])
    return mutate


def drop_variable(name):
    def mutate(d):
        d["templating"]["list"] = [v for v in d["templating"]["list"] if v["name"] != name]
    return mutate


def second_dashboard(tree):
    with open(os.path.join(tree, DASH), encoding="utf-8") as f:
        d = json.load(f)
    d["uid"] = "postfix-sasl-second"
    panels(d)[-1]["description"] = ""
    with open(os.path.join(tree, "dashboards", "second.json"), "w", encoding="utf-8") as f:
        json.dump(d, f)


def set_variable(name, **fields):
    def mutate(d):
        for v in d["templating"]["list"]:
            if v["name"] == name:
                v.update(fields)
    return mutate


def remove_test_file(name):
    def apply(tree):
        os.remove(os.path.join(tree, "dashboards", "tests", name))
    return apply


CASES = [
    ("query without the instance filter",
     edit_json(DASH, set_expr(lambda e: e.replace(',instance=~"$instance"', "", 1))),
     'must be filtered by job=~"$job",instance=~"$instance"'),
    ("query without the job filter",
     edit_json(DASH, set_expr(lambda e: e.replace('job=~"$job",', "", 1))),
     'must be filtered by job=~"$job",instance=~"$instance"'),
    ("query naming a metric the exporter does not export",
     edit_json(DASH, set_expr(lambda e: e.replace("postfix_smtpd_sasl_authentication_successes_total",
                                                  "postfix_smtpd_sasl_bogus_total"))),
     "metric postfix_smtpd_sasl_bogus_total is not exported"),
    ("rate over a fixed range",
     edit_json(DASH, set_expr(lambda e: e.replace("[$__rate_interval]", "[5m]"))),
     "must use [$__rate_interval]"),
    ("panel without description",
     edit_json(DASH, lambda d: panels(d)[3].pop("description")),
     "no description"),
    ("panel without unit",
     edit_json(DASH, lambda d: panels(d)[4]["fieldConfig"]["defaults"].pop("unit")),
     "no unit"),
    ("panel without title",
     edit_json(DASH, lambda d: panels(d)[5].update(title="")),
     "no title"),
    ("panel with a fixed data source",
     edit_json(DASH, lambda d: panels(d)[6].update(datasource={"type": "prometheus", "uid": "P1809F7CD0C75ACF3"})),
     "data source must be ${datasource}"),
    ("dashboard id not null",
     edit_json(DASH, lambda d: d.update(id=42)),
     "id must be null"),
    ("dashboard without uid",
     edit_json(DASH, lambda d: d.pop("uid")),
     "needs a fixed uid"),
    ("no datasource variable",
     edit_json(DASH, drop_variable("datasource")),
     "needs a variable 'datasource'"),
    ("no instance variable",
     edit_json(DASH, drop_variable("instance")),
     "needs a 'instance' variable"),
    ("a second dashboard file with a violation",
     second_dashboard,
     "second.json: panel"),
    ("exported metric list lacks a metric the dashboard uses",
     edit_text(METRICS, "postfix_smtpd_relay_denied_total\n", ""),
     "metric postfix_smtpd_relay_denied_total is not exported"),
    ("dashboard uses a recording rule that no rule file defines",
     edit_text(RULES, 'record: "postfix:saslauthd_workers"', 'record: "postfix:sasl_workers"'),
     "metric postfix:saslauthd_workers is not exported"),
    ("rule expression naming a metric the exporter does not export",
     edit_text(RULES, "rate(postfix_smtpd_relay_denied_total{", "rate(postfix_smtpd_relay_denials_total{"),
     "metric postfix_smtpd_relay_denials_total is not exported"),
    ("alert without severity",
     edit_text(RULES, '        labels:\n          severity: "critical"\n', '        labels:\n          team: "mail"\n'),
     "labels.severity must be one of"),
    ("description without $value",
     edit_text(RULES, "{{ $value | humanize }} relay denials", "many relay denials"),
     "description must show {{ $value | humanize }}"),
    ("runbook_url to a missing runbook section",
     edit_text(RULES, "runbook/exporter.md#postfixlogstale", "runbook/exporter.md#postfix-log-stale"),
     "anchor #postfix-log-stale is no heading of docs/runbook/exporter.md"),
    ("runbook_url to the section on another page",
     edit_text(RULES, "runbook/exporter.md#postfixlogstale", "runbook/sasl.md#postfixlogstale"),
     "anchor #postfixlogstale is no heading of docs/runbook/sasl.md"),
    ("alert without promtool tests",
     remove_test_file("relay_and_limits.test.yml"),
     "PostfixRelayDenialsSpike: no promtool test expects it to fire"),
    ("promtool test file without group_eval_order",
     edit_text(os.path.join("dashboards", "tests", "sasl_bruteforce.test.yml"),
               "group_eval_order:\n  - postfix-sasl-exporter-config\n", "group_eval_order:\n"),
     "group_eval_order must list the rule groups"),
    ("rule file that is not valid YAML",
     edit_text(RULES, "groups:\n", "groups:\n  - name: [unclosed\n"),
     "not valid YAML"),
    ("counter shown without rate()",
     edit_json(DASH, set_expr(lambda e: e.replace("rate(", "(").replace("[$__rate_interval]", ""))),
     "[target-counter-agg-rule]"),
    ("query variable not refreshed on time range change",
     edit_json(DASH, set_variable("job", refresh=1)),
     "[template-on-time-change-reload]"),
    ("instance variable that is not multi-select",
     edit_json(DASH, set_variable("instance", multi=False)),
     "must be multi-select with allValue"),
    ("panel with an unknown unit",
     edit_json(DASH, lambda d: panels(d)[2]["fieldConfig"]["defaults"].update(unit="requests")),
     "is not a known Grafana unit"),
    ("fleet dashboard query without the job filter",
     edit_json(FLEET, set_expr(lambda e: e.replace('job=~"$job",', "", 1))),
     "[target-job-rule]"),
    ("runbook_url that is not http(s)",
     edit_text(RULES, 'runbook_url: "https://github.com', 'runbook_url: "ftp://github.com'),
     "must be an http(s) URL"),
    ("runbook section without an Impact subsection",
     edit_text(RUNBOOK, "### Impact\n", "Impact:\n"),
     "lacks the subsection(s) ### Impact"),
    ("shipped rule file edited by hand instead of through the mixin",
     edit_text(RULES, "* 0 + 60", "* 0 + 70"),
     "differs from the mixin's output", "generate"),
]


def run(tree, what="check"):
    if what == "generate":
        argv = ["sh", os.path.join(tree, GENERATE), "--check"]
    else:
        argv = [sys.executable, CHECKER, "--root", tree]
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return p.returncode, p.stdout


def make_tree(root, tmp):
    tree = tempfile.mkdtemp(dir=tmp)
    shutil.copytree(os.path.join(root, "dashboards"), os.path.join(tree, "dashboards"))
    os.makedirs(os.path.join(tree, "docs"))
    shutil.copy(os.path.join(root, "docs", "runbook.md"), os.path.join(tree, "docs"))
    shutil.copytree(os.path.join(root, "docs", "runbook"), os.path.join(tree, "docs", "runbook"))
    os.makedirs(os.path.join(tree, "tests", "dashboards"))
    shutil.copy(os.path.join(root, METRICS), os.path.join(tree, METRICS))
    return tree


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default=os.path.dirname(os.path.dirname(HERE)))
    args = ap.parse_args()
    failures = 0
    with tempfile.TemporaryDirectory(prefix="check-dashboards-neg-") as tmp:
        rc, out = run(make_tree(args.root, tmp))
        if rc != 0:
            print("FAIL: the unmodified copy does not pass, so the cases below prove nothing:\n" + out)
            return 1
        for name, mutate, expected, *what in CASES:
            what = what[0] if what else "check"
            if what == "generate" and not shutil.which("jsonnet"):
                print(f"FAIL {name}: jsonnet not found (scripts/install-deps.sh --test)")
                failures += 1
                continue
            tree = make_tree(args.root, tmp)
            try:
                mutate(tree)
            except AssertionError as e:
                print(f"FAIL {name}: {e}")
                failures += 1
                continue
            rc, out = run(tree, what)
            if rc == 0:
                print(f"FAIL {name}: {what} accepted it")
                failures += 1
            elif expected not in out:
                print(f"FAIL {name}: rejected, but without {expected!r}:\n{out}")
                failures += 1
            else:
                print(f"ok   {name}")
    if failures:
        print(f"check_dashboards_negative: {failures} of {len(CASES)} cases failed")
        return 1
    print(f"check_dashboards_negative: all {len(CASES)} violations rejected")
    return 0


if __name__ == "__main__":
    sys.exit(main())
