#!/usr/bin/env python3
"""Static checks for the dashboards and Prometheus rules in dashboards/.

Rules enforced (see docs/runbook.md "Dashboards and rules: conventions"):

Every dashboards/*.json (Grafana classic JSON):
  - fixed `uid`, `id` null, a title;
  - a `datasource` variable of type datasource with query `prometheus`, and
    `job` and `instance` variables that use it;
  - every panel has a title; every non-row panel a description, a unit
    (fieldConfig.defaults.unit), the `${datasource}` data source and targets;
  - every metric selector of every query carries job=~"$job" and
    instance=~"$instance"; rate/irate/increase use [$__rate_interval]; no
    other range is a fixed duration;
  - every metric a query names is exported by the exporter
    (tests/dashboards/exported_metrics.txt) or is a recording rule defined in
    the rule files.

Every rule file (dashboards/*.yml with `groups:`):
  - recording rule names contain a colon; rule expressions use only exported
    metrics, Prometheus' own `up`, and recording rules of these files;
  - every alert has labels.severity (critical|warning|info) and annotations
    summary, description (templated with $labels.instance and $value) and a
    runbook_url pointing to an existing section of docs/runbook.md.

Every alert is covered by dashboards/tests/*.test.yml: at least one
alert_rule_test expects it firing and at least one expects it silent, and no
test names an alert that does not exist; every test file fixes
group_eval_order (promtool's default order is random).

Python 3 standard library only. The rule and test files are read with a small
YAML-subset reader that refuses (rather than misreads) anything outside the
subset those files use.

Usage: check_dashboards.py [--root DIR] [--metrics FILE]
Exit status 0 when everything holds, 1 with one line per violation otherwise.
"""

import argparse
import glob
import json
import os
import re
import sys

RUNBOOK_BASE = ("https://github.com/postfix-sasl-exporter/postfix-sasl-exporter"
                "/blob/main/docs/runbook.md#")
SEVERITIES = {"critical", "warning", "info"}
# Series Prometheus itself attaches to every target; allowed in rule files
# (PostfixExporterDown), never in dashboards, which show exporter data only.
PROMETHEUS_SYNTHETIC = {"up"}
METRIC_NAME_RE = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")


class YamlError(Exception):
    pass


# --------------------------------------------------------------------------
# YAML subset: block mappings and sequences, plain / single / double quoted
# scalars, block scalars (| |- |+ > >- >+), empty flow collections, comments.


def _strip_comment(line):
    out = []
    quote = None
    i = 0
    while i < len(line):
        c = line[i]
        if quote:
            if quote == '"' and c == "\\":
                out.append(line[i:i + 2])
                i += 2
                continue
            if c == quote:
                if quote == "'" and line[i + 1:i + 2] == "'":
                    out.append("''")
                    i += 2
                    continue
                quote = None
        elif c in "'\"" and (i == 0 or line[i - 1] in " \t:-[{,"):
            quote = c
        elif c == "#" and (i == 0 or line[i - 1] in " \t"):
            break
        out.append(c)
        i += 1
    return "".join(out).rstrip()


_KEY_RE = re.compile(r"""^('(?:[^']|'')*'|"(?:[^"\\]|\\.)*"|[^\s'"\[\]{}#&*!|>%@`,-][^:#]*?|-[^\s:#][^:#]*?)\s*:(?:\s+|$)""")


def _scalar(text, where):
    text = text.strip()
    if text == "":
        return None
    if text[0] == "'":
        if not (len(text) >= 2 and text[-1] == "'"):
            raise YamlError(f"{where}: unterminated or multi-line quoted scalar")
        return text[1:-1].replace("''", "'")
    if text[0] == '"':
        if not (len(text) >= 2 and text[-1] == '"'):
            raise YamlError(f"{where}: unterminated or multi-line quoted scalar")
        return json.loads(text)
    if text == "[]":
        return []
    if text == "{}":
        return {}
    if text[0] in "[{&*!%@`":
        raise YamlError(f"{where}: flow collections, anchors and tags are not supported: {text!r}")
    if text in ("null", "~"):
        return None
    if text in ("true", "false"):
        return text == "true"
    return text


class _Reader:
    def __init__(self, text, name):
        self.name = name
        self.raw = text.split("\n")
        self.lines = []  # (lineno, indent, content) without comments/blank lines
        for no, line in enumerate(self.raw, 1):
            if "\t" in line[: len(line) - len(line.lstrip())]:
                raise YamlError(f"{name}:{no}: tab in indentation")
            content = _strip_comment(line)
            if content.strip() in ("", "---"):
                continue
            self.lines.append((no, len(content) - len(content.lstrip()), content.strip()))
        self.pos = 0

    def where(self, no):
        return f"{self.name}:{no}"

    def peek(self):
        return self.lines[self.pos] if self.pos < len(self.lines) else None

    def parse(self):
        if not self.lines:
            return None
        value = self.node(self.lines[0][1])
        if self.peek() is not None:
            raise YamlError(f"{self.where(self.peek()[0])}: unexpected content (bad indentation?)")
        return value

    def node(self, indent):
        line = self.peek()
        if line is None or line[1] < indent:
            return None
        if line[2] == "-" or line[2].startswith("- "):
            return self.sequence(line[1])
        return self.mapping(line[1])

    def sequence(self, indent):
        items = []
        while True:
            line = self.peek()
            if line is None or line[1] < indent:
                return items
            no, ind, content = line
            if ind > indent or not (content == "-" or content.startswith("- ")):
                raise YamlError(f"{self.where(no)}: expected a '- ' item at column {indent}")
            rest = content[1:].lstrip()
            if rest == "":
                self.pos += 1
                items.append(self.node(indent + 1))
                continue
            # Re-read the item's first line as if it started at its own column.
            col = ind + (len(content) - len(rest))
            self.lines[self.pos] = (no, col, rest)
            if _KEY_RE.match(rest):
                items.append(self.mapping(col))
            else:
                self.pos += 1
                items.append(self.value_after(rest, ind, no))

    def mapping(self, indent):
        result = {}
        while True:
            line = self.peek()
            if line is None or line[1] < indent:
                return result
            no, ind, content = line
            if ind != indent:
                raise YamlError(f"{self.where(no)}: bad indentation (expected column {indent})")
            if content == "-" or content.startswith("- "):
                return result  # a sequence item of an outer sequence
            m = _KEY_RE.match(content)
            if not m:
                raise YamlError(f"{self.where(no)}: expected 'key: value', got {content!r}")
            key = _scalar(m.group(1), self.where(no))
            if key in result:
                raise YamlError(f"{self.where(no)}: duplicate key {key!r}")
            rest = content[m.end():]
            self.pos += 1
            if rest.strip() == "":
                nxt = self.peek()
                if nxt is not None and (nxt[1] > indent or
                                        (nxt[1] == indent and (nxt[2] == "-" or nxt[2].startswith("- ")))):
                    result[key] = self.node(nxt[1])
                else:
                    result[key] = None
            else:
                result[key] = self.value_after(rest, indent, no)

    def value_after(self, rest, parent_indent, no):
        rest = rest.strip()
        m = re.match(r"^([|>])([+-]?)$", rest)
        if m:
            return self.block_scalar(m.group(1), m.group(2), parent_indent, no)
        nxt = self.peek()
        if nxt is not None and nxt[1] > parent_indent and not (nxt[2] == "-" or nxt[2].startswith("- ")) \
                and not _KEY_RE.match(nxt[2]):
            raise YamlError(f"{self.where(nxt[0])}: multi-line plain scalars are not supported")
        return _scalar(rest, self.where(no))

    def block_scalar(self, style, chomp, parent_indent, no):
        # Block scalars are read from the raw lines: comments and blank lines
        # inside them are content.
        start = no  # raw index of the first content line (0-based = no)
        body = []
        content_indent = None
        i = start
        while i < len(self.raw):
            raw = self.raw[i]
            if raw.strip() == "":
                body.append("")
                i += 1
                continue
            ind = len(raw) - len(raw.lstrip())
            if ind <= parent_indent:
                break
            if content_indent is None:
                content_indent = ind
            if ind < content_indent:
                raise YamlError(f"{self.name}:{i + 1}: block scalar line less indented than its first line")
            body.append(raw[content_indent:])
            i += 1
        # Skip the filtered lines that belonged to the block scalar.
        while self.peek() is not None and self.peek()[0] <= i:
            self.pos += 1
        while body and body[-1] == "":
            body.pop()
        if style == "|":
            text = "\n".join(body)
        else:
            text = ""
            for j, part in enumerate(body):
                if j == 0:
                    text = part
                elif part == "":
                    text += "\n"
                elif text.endswith("\n") or part.startswith(" "):
                    text += part if text.endswith("\n") else "\n" + part
                else:
                    text += " " + part
        if chomp != "-" and text:
            text += "\n"
        return text


def load_yaml(path):
    with open(path, encoding="utf-8") as f:
        return _Reader(f.read(), path).parse()


# --------------------------------------------------------------------------
# PromQL: just enough lexing to find metric selectors, their matchers and
# range selectors. Strings, matchers and ranges are single tokens.

_TOKEN_RE = re.compile(r"""
   (?P<ws>\s+)
 | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)
 | (?P<braces>\{(?:[^{}"']|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')*\})
 | (?P<range>\[[^\[\]]*\])
 | (?P<number>(?:0[xX][0-9a-fA-F]+|(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)(?:ms|[smhdwy])?(?:\d+(?:ms|[smhdwy]))*)
 | (?P<ident>[a-zA-Z_:][a-zA-Z0-9_:]*)
 | (?P<var>\$\{?[a-zA-Z_][a-zA-Z0-9_]*\}?)
 | (?P<op>==|!=|>=|<=|=~|!~|[-+*/%^<>(),=@])
""", re.X)

PROMQL_FUNCTIONS = set("""
abs absent absent_over_time acos acosh asin asinh atan atanh avg_over_time ceil changes clamp clamp_max
clamp_min cos cosh count_over_time day_of_month day_of_week day_of_year days_in_month deg delta deriv exp
floor histogram_quantile holt_winters hour idelta increase irate label_join label_replace last_over_time
ln log10 log2 max_over_time min_over_time minute month pi predict_linear present_over_time
quantile_over_time rad rate resets round scalar sgn sin sinh sort sort_desc sqrt stddev_over_time
stdvar_over_time sum_over_time tan tanh time timestamp vector year
sum min max avg group stddev stdvar count count_values bottomk topk quantile
""".split())
AGGREGATIONS = set("sum min max avg group stddev stdvar count count_values bottomk topk quantile".split())
GROUPING_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right"}
KEYWORDS = GROUPING_KEYWORDS | {"and", "or", "unless", "bool", "offset", "inf", "nan", "atan2"}
RANGE_FUNCTIONS_RATE = {"rate", "irate", "increase"}
_MATCHER_RE = re.compile(r"""\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')\s*,?""")


class PromQLError(Exception):
    pass


def parse_matchers(braces):
    inner = braces[1:-1]
    out = []
    pos = 0
    while pos < len(inner):
        if inner[pos:].strip() == "":
            break
        m = _MATCHER_RE.match(inner, pos)
        if not m:
            raise PromQLError(f"cannot read label matchers {braces!r}")
        value = m.group(3)
        value = json.loads(value) if value[0] == '"' else value[1:-1]
        out.append((m.group(1), m.group(2), value))
        pos = m.end()
    return out


def _skip_parens(tokens, j):
    """If tokens[j] opens a label list `( ... )`, returns the index after
    its closing parenthesis, else j."""
    if j >= len(tokens) or tokens[j][1] != "(":
        return j
    while j < len(tokens) and tokens[j][1] != ")":
        if tokens[j][0] not in ("ident", "op"):
            raise PromQLError(f"unexpected {tokens[j][1]!r} in a label list")
        j += 1
    if j >= len(tokens):
        raise PromQLError("unterminated label list")
    return j + 1


def analyse_promql(expr):
    """Returns (selectors, ranges): selectors are (metric_name, matchers)
    with matchers a list of (label, op, value) (None when the selector has no
    braces); ranges are (enclosing_function, range_text)."""
    tokens = []
    pos = 0
    while pos < len(expr):
        m = _TOKEN_RE.match(expr, pos)
        if not m:
            raise PromQLError(f"cannot lex {expr[pos:pos + 20]!r}")
        if m.lastgroup != "ws":
            tokens.append((m.lastgroup, m.group()))
        pos = m.end()
    selectors, ranges, stack = [], [], []
    i = 0
    while i < len(tokens):
        kind, text = tokens[i]
        nxt = tokens[i + 1] if i + 1 < len(tokens) else (None, None)
        if kind == "ident":
            low = text.lower()
            if low in GROUPING_KEYWORDS:
                i = _skip_parens(tokens, i + 1)
                continue
            if low in KEYWORDS:
                i += 1
                continue
            j = i + 1
            if low in AGGREGATIONS and nxt[0] == "ident" and nxt[1].lower() in ("by", "without"):
                # sum by (a, b) (expr): skip the clause to the opening parenthesis.
                j = _skip_parens(tokens, i + 2)
            if j < len(tokens) and tokens[j][1] == "(":
                if low not in PROMQL_FUNCTIONS:
                    raise PromQLError(f"unknown function {text}()")
                stack.append(low)
                i = j + 1
                continue
            if nxt[0] == "braces":
                selectors.append((text, parse_matchers(nxt[1])))
                i += 2
            else:
                selectors.append((text, None))
                i += 1
            continue
        if kind == "braces":  # bare {__name__="x", ...}
            matchers = parse_matchers(text)
            names = [v for (l, op, v) in matchers if l == "__name__"]
            if len(names) != 1 or [op for (l, op, v) in matchers if l == "__name__"] != ["="]:
                raise PromQLError(f"selector without a metric name (or a __name__ regex): {text}")
            selectors.append((names[0], matchers))
        elif kind == "range":
            ranges.append((stack[-1] if stack else None, text))
        elif text == "(":
            stack.append(None)
        elif text == ")":
            if not stack:
                raise PromQLError("unbalanced parentheses")
            stack.pop()
        i += 1
    if stack:
        raise PromQLError("unbalanced parentheses")
    return selectors, ranges


def metric_names(expr):
    return [name for name, _ in analyse_promql(expr)[0]]


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
        except YamlError as e:
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


def runbook_anchors(path):
    anchors = set()
    with open(path, encoding="utf-8") as f:
        in_code = False
        for line in f:
            if line.startswith("```"):
                in_code = not in_code
            if not in_code:
                m = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
                if m:
                    anchors.add(github_anchor(m.group(1)))
    return anchors


# --------------------------------------------------------------------------
# Checks.


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
        if name not in allowed:
            errors.append(f"{where}: metric {name} is not exported by the exporter "
                          f"(exported_metrics.txt) nor a recording rule of dashboards/")


def check_dashboard(path, exported, recorded, errors):
    try:
        with open(path, encoding="utf-8") as f:
            d = json.load(f)
    except (OSError, ValueError) as e:
        errors.append(f"{path}: not valid JSON: {e}")
        return set()
    used = set()
    name = os.path.basename(path)
    uid = d.get("uid")
    if not isinstance(uid, str) or not re.match(r"^[A-Za-z0-9_-]{1,40}$", uid):
        errors.append(f"{name}: needs a fixed uid (1-40 chars of A-Za-z0-9_-), got {uid!r}")
    if "id" not in d or d["id"] is not None:
        errors.append(f"{name}: id must be null")
    if not d.get("title"):
        errors.append(f"{name}: no title")

    variables = {v.get("name"): v for v in (d.get("templating") or {}).get("list") or []}
    ds = variables.get("datasource")
    if not ds or ds.get("type") != "datasource" or ds.get("query") != "prometheus":
        errors.append(f"{name}: needs a variable 'datasource' of type datasource with query prometheus")
    for var in ("job", "instance"):
        v = variables.get(var)
        if not v:
            errors.append(f"{name}: needs a '{var}' variable")
        elif not is_datasource_ref(v.get("datasource")):
            errors.append(f"{name}: variable {var} must use the ${{datasource}} data source")
    allowed = exported | recorded
    for var, query in variable_queries(d):
        where = f"{name}: variable {var}"
        m = re.match(r"^\s*label_values\((.*),\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)\s*$", query or "")
        if not m:
            errors.append(f"{where}: query must be label_values(<metric selector>, <label>), got {query!r}")
            continue
        check_expr_metrics(m.group(1), allowed, where, errors)
        used.update(n for n in safe_names(m.group(1)))
        if var == "instance" and 'job=~"$job"' not in m.group(1).replace(" ", ""):
            errors.append(f"{where}: must be filtered by job=~\"$job\"")

    ids = set()
    panels = list(iter_panels(d.get("panels")))
    if not [p for p in panels if p.get("type") != "row"]:
        errors.append(f"{name}: no panels")
    for p in panels:
        title = p.get("title")
        where = f"{name}: panel {title!r} (id {p.get('id')})"
        if not title:
            errors.append(f"{where}: no title")
        pid = p.get("id")
        if pid in ids:
            errors.append(f"{where}: duplicate panel id")
        ids.add(pid)
        if p.get("type") == "row":
            continue
        if not p.get("gridPos"):
            errors.append(f"{where}: no gridPos")
        if not (p.get("description") or "").strip():
            errors.append(f"{where}: no description")
        unit = ((p.get("fieldConfig") or {}).get("defaults") or {}).get("unit")
        if not unit:
            errors.append(f"{where}: no unit (fieldConfig.defaults.unit)")
        if not is_datasource_ref(p.get("datasource")):
            errors.append(f"{where}: data source must be ${{datasource}}")
        targets = p.get("targets") or []
        if not targets:
            errors.append(f"{where}: no queries")
        for t in targets:
            tw = f"{where} query {t.get('refId')}"
            if "datasource" in t and not is_datasource_ref(t["datasource"]):
                errors.append(f"{tw}: data source must be ${{datasource}}")
            expr = t.get("expr")
            if not expr:
                errors.append(f"{tw}: no expr")
                continue
            try:
                selectors, ranges = analyse_promql(expr)
            except PromQLError as e:
                errors.append(f"{tw}: {e}")
                continue
            if not selectors:
                errors.append(f"{tw}: names no metric")
            for metric, matchers in selectors:
                used.add(metric)
                if metric not in allowed:
                    errors.append(f"{tw}: metric {metric} is not exported by the exporter "
                                  f"(exported_metrics.txt) nor a recording rule of dashboards/")
                m = set(matchers or [])
                if ("job", "=~", "$job") not in m or ("instance", "=~", "$instance") not in m:
                    errors.append(f'{tw}: selector {metric} must be filtered by job=~"$job",instance=~"$instance"')
            for func, rng in ranges:
                if func in RANGE_FUNCTIONS_RATE and rng != "[$__rate_interval]":
                    errors.append(f"{tw}: {func}() must use [$__rate_interval], not {rng}")
                elif not re.match(r"^\[\$(__\w+|\{__\w+\})(:\$(__\w+|\{__\w+\}))?\]$", rng):
                    errors.append(f"{tw}: range {rng} must be a Grafana interval variable, not a fixed duration")
    return used


def safe_names(expr):
    try:
        return metric_names(expr)
    except PromQLError:
        return []


def check_rules(root, rules, exported, errors):
    recorded = {r["record"] for (_, _, r) in rules if isinstance(r.get("record"), str)}
    alerts = {}
    anchors = set()
    runbook = os.path.join(root, "docs", "runbook.md")
    if os.path.exists(runbook):
        anchors = runbook_anchors(runbook)
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
        url = ann.get("runbook_url") or ""
        if not url.startswith(RUNBOOK_BASE):
            errors.append(f"{where}: runbook_url must start with {RUNBOOK_BASE}")
        elif url[len(RUNBOOK_BASE):] not in anchors:
            errors.append(f"{where}: runbook_url anchor #{url[len(RUNBOOK_BASE):]} is no heading of docs/runbook.md")
    return recorded, alerts


def check_test_coverage(root, alerts, group_names, errors):
    fires, silent = set(), set()
    files = sorted(glob.glob(os.path.join(root, "dashboards", "tests", "*.test.yml")))
    if not files:
        errors.append("dashboards/tests/*.test.yml: no promtool test files")
    for path in files:
        try:
            doc = load_yaml(path)
        except YamlError as e:
            errors.append(str(e))
            continue
        # promtool evaluates groups in random order unless told; alerts that
        # read recording rules would then see the previous step's values.
        if (doc or {}).get("group_eval_order") != group_names:
            errors.append(f"{path}: group_eval_order must list the rule groups in file order: {group_names}")
        for test in (doc or {}).get("tests") or []:
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
    args = ap.parse_args(argv)
    root = args.root
    metrics_path = args.metrics or os.path.join(root, "tests", "dashboards", "exported_metrics.txt")
    errors = []
    exported = load_exported_metrics(metrics_path, errors)
    rules = load_rules(root, errors)
    if not rules:
        errors.append(f"{root}/dashboards: no rule files")
    recorded, alerts = check_rules(root, rules, exported, errors)
    group_names = []
    for (_, group, _) in rules:
        if group not in group_names:
            group_names.append(group)
    check_test_coverage(root, alerts, group_names, errors)
    dashboards = dashboard_files(root)
    if not dashboards:
        errors.append(f"{root}/dashboards: no *.json dashboards")
    used = set()
    for path in dashboards:
        used |= check_dashboard(path, exported, recorded, errors)
    for e in errors:
        print("FAIL " + e)
    unused = sorted(exported - used)
    if unused:
        print("note: exported metrics no dashboard shows: " + ", ".join(unused))
    if errors:
        print(f"check_dashboards: {len(errors)} violation(s)")
        return 1
    print(f"check_dashboards: OK ({len(dashboards)} dashboard(s), {len(rules)} rule(s), "
          f"{len(alerts)} alert(s), {len(exported)} exported metric(s))")
    return 0


if __name__ == "__main__":
    sys.exit(main())
