#!/usr/bin/env python3
"""Static checks for the dashboards and Prometheus rules in dashboards/.

Dashboards (every dashboards/*.json, classic Grafana JSON) get the rules of
Grafana's dashboard-linter, under its rule names:
  template-datasource-rule       a `datasource` variable of type datasource,
                                 query prometheus, labelled "Data source";
  template-job-rule,             `job` and `instance` query variables on
  template-instance-rule           ${datasource}, labelled Job / Instance,
                                   multi-select with allValue ".+";
  template-label-promql-rule     query variables are label_values(<selector>,
                                 <label>) naming known metrics;
  template-on-time-change-reload query variables refresh on time range change;
  panel-datasource-rule          panels and targets use ${datasource};
  panel-title-description-rule   every panel has a title and a description;
  panel-units-rule               every panel sets a known Grafana unit;
  panel-no-targets-rule          every panel has queries;
  target-promql-rule             every query lexes as PromQL;
  target-rate-interval-rule      rate/irate/increase use [$__rate_interval]
                                 (stricter than the linter: no fixed range
                                 anywhere);
  target-job-rule,               every selector has job=~"$job" and
  target-instance-rule             instance=~"$instance";
  target-counter-agg-rule        every *_total counter is read through
                                 rate, irate or increase.
An exception to any of them is an entry in EXCEPTIONS below, with its reason.
Rows are exempt from the panel rules (they hold no data). Beyond the linter:
a fixed uid, id null, unique panel ids, and every metric a query names is
exported (tests/dashboards/exported_metrics.txt; NAME_bucket, NAME_count and
NAME_sum of a listed histogram NAME) or recorded by the rules.

Rule files (dashboards/*.yml with `groups:`, read with PyYAML):
  - recording rule names contain a colon; expressions use only exported
    metrics, `up` and the rules' own records;
  - every alert: CamelCase Postfix* name, labels.severity critical|warning|
    info, annotations summary, description (with {{ $labels.instance }} and
    {{ $value | humanize }}) and an http(s) runbook_url whose #anchor is a
    section, with the subsections Meaning, Impact, Diagnosis and Mitigation,
    of the page its path names (docs/runbook/<page>.md, or docs/runbook.md),
    or of any runbook page when the path names none (a runbook served
    elsewhere); unless --runbook-base is empty it starts with that base;
  - dashboards/tests/*.test.yml (promtool) fix group_eval_order and expect
    every alert both firing and silent somewhere.

Usage: check_dashboards.py [--root DIR] [--metrics FILE] [--runbook-base URL]
                           [--skip-test-coverage]
Exit status 0 when everything holds, 1 with one line per violation otherwise.
Needs python3-yaml (scripts/install-deps.sh --test).
"""

import argparse
import glob
import json
import os
import re
import sys

try:
    import yaml
except ImportError:  # pragma: no cover - depends on the host
    print("FAIL python3-yaml is not installed: run scripts/install-deps.sh --test")
    sys.exit(1)

RUNBOOK_BASE = ("https://github.com/postfix-sasl-exporter/postfix-sasl-exporter"
                "/blob/main/docs/runbook/")
# The runbook page a runbook_url's path names, relative to the repository.
RUNBOOK_PAGE_RE = re.compile(r"/(docs/runbook(?:/[\w-]+)?\.md)$")
RUNBOOK_SUBSECTIONS = ("Meaning", "Impact", "Diagnosis", "Mitigation")
SEVERITIES = {"critical", "warning", "info"}
# Series Prometheus itself attaches to every target; allowed in rule files
# (PostfixExporterDown), never in dashboards, which show exporter data only.
PROMETHEUS_SYNTHETIC = {"up"}
METRIC_NAME_RE = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")

# Grafana unit ids (packages/grafana-data valueFormats) that our panels may
# use; extend when a panel needs another real unit.
VALID_UNITS = {
    "none", "short", "percent", "percentunit", "bytes", "decbytes", "bits", "Bps", "bps",
    "ns", "µs", "ms", "s", "m", "h", "d", "dtdurations", "dtdurationms",
    "ops", "reqps", "rps", "wps", "iops", "cps", "opm", "rpm", "wpm", "cpm",
    "dateTimeAsIso", "dateTimeFromNow", "bool", "bool_yes_no", "bool_on_off",
}

# Deliberate exceptions to the linter rules: (rule, dashboard uid, panel
# title or variable name) -> why. Each suppresses exactly one finding; an
# entry that suppresses nothing is itself reported, so the list stays true.
EXCEPTIONS = {
}


class Findings:
    """Collects violations; linter findings go through EXCEPTIONS."""

    def __init__(self):
        self.errors = []
        self.used_exceptions = set()

    def add(self, message):
        self.errors.append(message)

    def lint(self, rule, uid, subject, message):
        key = (rule, uid, subject)
        if key in EXCEPTIONS:
            self.used_exceptions.add(key)
            return
        self.errors.append(f"[{rule}] {message}")

    def unused_exceptions(self):
        for key in sorted(set(EXCEPTIONS) - self.used_exceptions):
            self.errors.append(f"EXCEPTIONS entry {key} matches no finding: remove it")


def load_yaml(path):
    """Parses a YAML file; raises ValueError with the file name on errors."""
    with open(path, encoding="utf-8") as f:
        try:
            return yaml.safe_load(f)
        except yaml.YAMLError as e:
            raise ValueError(f"{path}: not valid YAML: {e}") from None


# PromQL lexing lives beside this script (same directory).
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from promql_lex import PromQLError, analyse_promql  # noqa: E402


def metric_names(expr):
    return [name for name, _, _ in analyse_promql(expr)[0]]


# A histogram family exports NAME_bucket, NAME_count and NAME_sum; queries
# name those, exported_metrics.txt the family (as /metrics' # TYPE does).
HISTOGRAM_SERIES_RE = re.compile(r"^(.+)_(bucket|count|sum)$")


def is_allowed(name, allowed):
    """Whether a metric a query names is in `allowed`, directly or as a
    series of a histogram family listed there."""
    if name in allowed:
        return True
    m = HISTOGRAM_SERIES_RE.match(name)
    return bool(m) and m.group(1) in allowed


def family_of(name, allowed):
    """The listed family a series name belongs to (itself if not a
    histogram series of a listed family)."""
    m = HISTOGRAM_SERIES_RE.match(name)
    if name not in allowed and m and m.group(1) in allowed:
        return m.group(1)
    return name


# --------------------------------------------------------------------------
# Loading the project's files.


def load_exported_metrics(path, errors):
    names = []
    with open(path, encoding="utf-8") as f:
        for no, line in enumerate(f, 1):
            name = line.strip()
            if not name:
                continue
            if not METRIC_NAME_RE.match(name) or ":" in name:
                errors.append(f"{path}:{no}: not a metric name: {name!r}")
            elif name in names:
                errors.append(f"{path}:{no}: duplicate {name}")
            names.append(name)
    return set(names)


def rule_files(root):
    out = []
    for path in sorted(glob.glob(os.path.join(root, "dashboards", "*.yml")) +
                       glob.glob(os.path.join(root, "dashboards", "*.yaml"))):
        with open(path, encoding="utf-8") as f:
            if re.search(r"^groups:", f.read(), re.M):
                out.append(path)
    return out


def load_rules(root, errors):
    """Returns a list of (path, group_name, rule_dict)."""
    rules = []
    for path in rule_files(root):
        try:
            doc = load_yaml(path)
        except ValueError as e:
            errors.append(str(e))
            continue
        if not isinstance(doc, dict) or not isinstance(doc.get("groups"), list):
            errors.append(f"{path}: no list of groups")
            continue
        for group in doc["groups"]:
            if not isinstance(group, dict) or not isinstance(group.get("rules"), list):
                errors.append(f"{path}: group without rules: {group!r}")
                continue
            for rule in group["rules"]:
                if not isinstance(rule, dict):
                    errors.append(f"{path}: group {group.get('name')}: rule is not a mapping")
                    continue
                rules.append((path, group.get("name"), rule))
    return rules


def dashboard_files(root):
    return sorted(glob.glob(os.path.join(root, "dashboards", "*.json")))


def iter_panels(panels):
    for p in panels or []:
        yield p
        if isinstance(p, dict) and p.get("panels"):
            yield from iter_panels(p["panels"])


def dashboard_queries(dashboard):
    """Yields (panel_title, refId, expr) for every query of a dashboard."""
    for p in iter_panels(dashboard.get("panels")):
        for t in p.get("targets") or []:
            yield p.get("title"), t.get("refId"), t.get("expr")


def variable_queries(dashboard):
    """Yields (variable_name, query_text) for query variables."""
    for v in (dashboard.get("templating") or {}).get("list") or []:
        if v.get("type") != "query":
            continue
        q = v.get("query")
        if isinstance(q, dict):
            q = q.get("query")
        yield v.get("name"), q


def github_anchor(heading):
    slug = heading.strip().lower()
    slug = re.sub(r"[^\w\- ]", "", slug)
    return slug.replace(" ", "-")


def runbook_sections(path):
    """Returns {anchor of a level-2 heading: set of its level-3 headings}."""
    sections = {}
    current = None
    in_code = False
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("```"):
                in_code = not in_code
            if in_code:
                continue
            m = re.match(r"^(#{1,6})\s+(.*?)\s*#*\s*$", line)
            if not m:
                continue
            level, text = len(m.group(1)), m.group(2)
            if level <= 2:
                current = github_anchor(text)
                sections[current] = set()
            elif level == 3 and current is not None:
                sections[current].add(text.strip())
    return sections


# --------------------------------------------------------------------------
# Dashboards.


def is_datasource_ref(ds):
    if isinstance(ds, str):
        return ds in ("$datasource", "${datasource}")
    return isinstance(ds, dict) and ds.get("uid") in ("$datasource", "${datasource}")


def check_expr_metrics(expr, allowed, where, errors):
    try:
        names = metric_names(expr)
    except PromQLError as e:
        errors.append(f"{where}: {e}")
        return
    for name in names:
        if not is_allowed(name, allowed):
            errors.append(f"{where}: metric {name} is not exported by the exporter "
                          f"(exported_metrics.txt) nor a recording rule of dashboards/")


def check_variables(name, uid, d, allowed, f):
    used = set()
    variables = {v.get("name"): v for v in (d.get("templating") or {}).get("list") or []}
    ds = variables.get("datasource")
    if not ds or ds.get("type") != "datasource" or ds.get("query") != "prometheus":
        f.lint("template-datasource-rule", uid, "datasource",
               f"{name}: needs a variable 'datasource' of type datasource with query prometheus")
    elif ds.get("label") != "Data source":
        f.lint("template-datasource-rule", uid, "datasource",
               f"{name}: variable datasource must be labelled 'Data source'")
    for var in ("job", "instance"):
        rule = f"template-{var}-rule"
        v = variables.get(var)
        if not v:
            f.lint(rule, uid, var, f"{name}: needs a '{var}' variable")
            continue
        if not is_datasource_ref(v.get("datasource")):
            f.lint(rule, uid, var, f"{name}: variable {var} must use the ${{datasource}} data source")
        if v.get("type") != "query":
            f.lint(rule, uid, var, f"{name}: variable {var} must be a query variable")
        if v.get("label") != var.title():
            f.lint(rule, uid, var, f"{name}: variable {var} must be labelled {var.title()!r}")
        if not v.get("multi") or v.get("allValue") != ".+":
            f.lint(rule, uid, var, f"{name}: variable {var} must be multi-select with allValue '.+'")
    for var, query in variable_queries(d):
        where = f"{name}: variable {var}"
        v = variables.get(var) or {}
        if v.get("refresh") != 2:
            f.lint("template-on-time-change-reload", uid, var,
                   f"{where}: must refresh on time range change (refresh: 2)")
        m = re.match(r"^\s*label_values\((.*),\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)\s*$", query or "")
        if not m:
            f.lint("template-label-promql-rule", uid, var,
                   f"{where}: query must be label_values(<metric selector>, <label>), got {query!r}")
            continue
        problems = []
        check_expr_metrics(m.group(1), allowed, where, problems)
        for p in problems:
            f.lint("template-label-promql-rule", uid, var, p)
        used.update(family_of(x, allowed) for x in safe_names(m.group(1)))
        if var == "instance" and 'job=~"$job"' not in m.group(1).replace(" ", ""):
            f.lint("template-instance-rule", uid, var, f"{where}: must be filtered by job=~\"$job\"")
    return used


def check_target(name, uid, title, tw, t, allowed, f, used):
    if "datasource" in t and not is_datasource_ref(t["datasource"]):
        f.lint("panel-datasource-rule", uid, title, f"{tw}: data source must be ${{datasource}}")
    expr = t.get("expr")
    if not expr:
        f.lint("panel-no-targets-rule", uid, title, f"{tw}: no expr")
        return
    try:
        selectors, ranges = analyse_promql(expr)
    except PromQLError as e:
        f.lint("target-promql-rule", uid, title, f"{tw}: {e}")
        return
    if not selectors:
        f.lint("target-promql-rule", uid, title, f"{tw}: names no metric")
    for metric, matchers, range_fn in selectors:
        used.add(family_of(metric, allowed))
        if not is_allowed(metric, allowed):
            f.add(f"{tw}: metric {metric} is not exported by the exporter "
                  f"(exported_metrics.txt) nor a recording rule of dashboards/")
        m = set(matchers or [])
        for label in ("job", "instance"):
            if (label, "=~", f"${label}") not in m:
                f.lint(f"target-{label}-rule", uid, title,
                       f'{tw}: selector {metric} must be filtered by job=~"$job",instance=~"$instance"')
        if metric.endswith("_total") and range_fn not in ("rate", "irate", "increase"):
            f.lint("target-counter-agg-rule", uid, title,
                   f"{tw}: counter {metric} must be read through rate(), irate() or increase()")
    for func, rng in ranges:
        if func in ("rate", "irate", "increase") and rng != "[$__rate_interval]":
            f.lint("target-rate-interval-rule", uid, title,
                   f"{tw}: {func}() must use [$__rate_interval], not {rng}")
        elif not re.match(r"^\[\$(__\w+|\{__\w+\})(:\$(__\w+|\{__\w+\}))?\]$", rng):
            f.lint("target-rate-interval-rule", uid, title,
                   f"{tw}: range {rng} must be a Grafana interval variable, not a fixed duration")


def check_dashboard(path, exported, recorded, f):
    try:
        with open(path, encoding="utf-8") as fh:
            d = json.load(fh)
    except (OSError, ValueError) as e:
        f.add(f"{path}: not valid JSON: {e}")
        return set()
    name = os.path.basename(path)
    uid = d.get("uid")
    if not isinstance(uid, str) or not re.match(r"^[A-Za-z0-9_-]{1,40}$", uid):
        f.add(f"{name}: needs a fixed uid (1-40 chars of A-Za-z0-9_-), got {uid!r}")
    if "id" not in d or d["id"] is not None:
        f.add(f"{name}: id must be null")
    if not d.get("title"):
        f.add(f"{name}: no title")
    allowed = exported | recorded
    used = check_variables(name, uid, d, allowed, f)

    ids = set()
    panels = list(iter_panels(d.get("panels")))
    if not [p for p in panels if p.get("type") != "row"]:
        f.add(f"{name}: no panels")
    for p in panels:
        title = p.get("title")
        where = f"{name}: panel {title!r} (id {p.get('id')})"
        if not title:
            f.lint("panel-title-description-rule", uid, title, f"{where}: no title")
        pid = p.get("id")
        if pid in ids:
            f.add(f"{where}: duplicate panel id")
        ids.add(pid)
        if p.get("type") == "row":
            continue
        if not p.get("gridPos"):
            f.add(f"{where}: no gridPos")
        if not (p.get("description") or "").strip():
            f.lint("panel-title-description-rule", uid, title, f"{where}: no description")
        unit = ((p.get("fieldConfig") or {}).get("defaults") or {}).get("unit")
        if not unit:
            f.lint("panel-units-rule", uid, title, f"{where}: no unit (fieldConfig.defaults.unit)")
        elif unit not in VALID_UNITS:
            f.lint("panel-units-rule", uid, title, f"{where}: unit {unit!r} is not a known Grafana unit")
        if not is_datasource_ref(p.get("datasource")):
            f.lint("panel-datasource-rule", uid, title, f"{where}: data source must be ${{datasource}}")
        targets = p.get("targets") or []
        if not targets:
            f.lint("panel-no-targets-rule", uid, title, f"{where}: no queries")
        for t in targets:
            check_target(name, uid, title, f"{where} query {t.get('refId')}", t, allowed, f, used)
    return used


def safe_names(expr):
    try:
        return metric_names(expr)
    except PromQLError:
        return []


# --------------------------------------------------------------------------
# Rules, runbook and promtool tests.


def check_runbook_url(where, url, base, pages, errors):
    """`pages`: {page path relative to the root: runbook_sections() of it}."""
    m = re.match(r"^(https?://[^\s#]+)#([\w-]+)$", url)
    if not m:
        errors.append(f"{where}: runbook_url must be an http(s) URL with a #section, got {url!r}")
        return
    if base and not url.startswith(base):
        errors.append(f"{where}: runbook_url must start with {base}")
        return
    anchor = m.group(2)
    page = RUNBOOK_PAGE_RE.search(m.group(1))
    if page:
        page = page.group(1)
        sections = pages.get(page, {})
    else:  # served elsewhere, e.g. as one page: any runbook page may hold it
        page = "docs/runbook*.md"
        sections = {}
        for s in pages.values():
            sections.update(s)
    if anchor not in sections:
        errors.append(f"{where}: runbook_url anchor #{anchor} is no heading of {page}")
        return
    missing = [s for s in RUNBOOK_SUBSECTIONS if s not in sections[anchor]]
    if missing:
        errors.append(f"{where}: runbook section #{anchor} lacks the subsection(s) "
                      + ", ".join(f"### {s}" for s in missing))


def check_rules(root, rules, exported, runbook_base, errors):
    recorded = {r["record"] for (_, _, r) in rules if isinstance(r.get("record"), str)}
    alerts = {}
    pages = {}
    runbook = os.path.join(root, "docs", "runbook.md")
    if os.path.exists(runbook):
        for path in [runbook] + sorted(glob.glob(os.path.join(root, "docs", "runbook", "*.md"))):
            pages[os.path.relpath(path, root).replace(os.sep, "/")] = runbook_sections(path)
    else:
        errors.append(f"{runbook}: missing")
    allowed = exported | recorded | PROMETHEUS_SYNTHETIC
    for path, group, r in rules:
        name = r.get("record") or r.get("alert")
        where = f"{os.path.basename(path)}: group {group}: {name}"
        if not isinstance(r.get("expr"), str) or not r["expr"].strip():
            errors.append(f"{where}: no expr")
            continue
        check_expr_metrics(r["expr"], allowed, where, errors)
        if "record" in r:
            if ":" not in r["record"]:
                errors.append(f"{where}: recording rule names follow level:metric:operations (need a colon)")
            continue
        if not isinstance(r.get("alert"), str):
            errors.append(f"{where}: neither record nor alert")
            continue
        if not re.match(r"^Postfix[A-Z][A-Za-z0-9]*$", r["alert"]):
            errors.append(f"{where}: alert names are CamelCase with a Postfix prefix")
        if r["alert"] in alerts:
            errors.append(f"{where}: duplicate alert name")
        alerts[r["alert"]] = where
        labels = r.get("labels") or {}
        if labels.get("severity") not in SEVERITIES:
            errors.append(f"{where}: labels.severity must be one of {sorted(SEVERITIES)}")
        ann = r.get("annotations") or {}
        for key in ("summary", "description", "runbook_url"):
            if not (ann.get(key) or "").strip():
                errors.append(f"{where}: annotation {key} missing")
        desc = ann.get("description") or ""
        if not re.search(r"\{\{[^}]*\$labels\.instance[^}]*\}\}", desc):
            errors.append(f"{where}: description must name {{{{ $labels.instance }}}}")
        if not re.search(r"\{\{[^}]*\$value\s*\|\s*humanize[^}]*\}\}", desc):
            errors.append(f"{where}: description must show {{{{ $value | humanize }}}}")
        if ann.get("runbook_url"):
            check_runbook_url(where, ann["runbook_url"], runbook_base, pages, errors)
    return recorded, alerts


def check_test_coverage(root, alerts, group_names, errors):
    fires, silent = set(), set()
    files = sorted(glob.glob(os.path.join(root, "dashboards", "tests", "*.test.yml")))
    if not files:
        errors.append("dashboards/tests/*.test.yml: no promtool test files")
    for path in files:
        try:
            doc = load_yaml(path) or {}
        except ValueError as e:
            errors.append(str(e))
            continue
        # promtool evaluates groups in random order unless told; alerts that
        # read recording rules would then see the previous step's values.
        if doc.get("group_eval_order") != group_names:
            errors.append(f"{path}: group_eval_order must list the rule groups in file order: {group_names}")
        for test in doc.get("tests") or []:
            for art in test.get("alert_rule_test") or []:
                name = art.get("alertname")
                if name not in alerts:
                    errors.append(f"{path}: alert_rule_test for unknown alert {name!r}")
                (fires if art.get("exp_alerts") else silent).add(name)
    for name, where in sorted(alerts.items()):
        if name not in fires:
            errors.append(f"{where}: no promtool test expects it to fire")
        if name not in silent:
            errors.append(f"{where}: no promtool test expects it to stay silent (exp_alerts: [])")


def main(argv=None):
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", default=os.path.dirname(os.path.dirname(here)),
                    help="repository root (default: this script's ../..)")
    ap.add_argument("--metrics", help="exported metric list (default: ROOT/tests/dashboards/exported_metrics.txt)")
    ap.add_argument("--runbook-base", default=RUNBOOK_BASE,
                    help="prefix every runbook_url must have ('' for any http(s) URL)")
    ap.add_argument("--skip-test-coverage", action="store_true",
                    help="do not require promtool tests for every alert (for renderings "
                         "with a custom configuration, which carry their own tests)")
    args = ap.parse_args(argv)
    root = args.root
    metrics_path = args.metrics or os.path.join(root, "tests", "dashboards", "exported_metrics.txt")
    f = Findings()
    exported = load_exported_metrics(metrics_path, f.errors)
    rules = load_rules(root, f.errors)
    if not rules:
        f.add(f"{root}/dashboards: no rule files")
    recorded, alerts = check_rules(root, rules, exported, args.runbook_base, f.errors)
    group_names = []
    for (_, group, _) in rules:
        if group not in group_names:
            group_names.append(group)
    if not args.skip_test_coverage:
        check_test_coverage(root, alerts, group_names, f.errors)
    dashboards = dashboard_files(root)
    if not dashboards:
        f.add(f"{root}/dashboards: no *.json dashboards")
    used = set()
    for path in dashboards:
        used |= check_dashboard(path, exported, recorded, f)
    f.unused_exceptions()
    for e in f.errors:
        print("FAIL " + e)
    unused = sorted(exported - used)
    if unused:
        print("note: exported metrics no dashboard shows: " + ", ".join(unused))
    if f.errors:
        print(f"check_dashboards: {len(f.errors)} violation(s)")
        return 1
    print(f"check_dashboards: OK ({len(dashboards)} dashboard(s), {len(rules)} rule(s), "
          f"{len(alerts)} alert(s), {len(exported)} exported metric(s))")
    return 0


if __name__ == "__main__":
    sys.exit(main())
