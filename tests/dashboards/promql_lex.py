"""Just enough PromQL lexing for the dashboard and rule checks: metric
selectors, their label matchers, range selectors and the function a range
belongs to. Strings, matchers and ranges are single tokens. Used by
check_dashboards.py (and through it by e2e_prometheus.py)."""

import json
import re

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


def _range_function(tokens, j, stack):
    """The function a selector ending before tokens[j] is the range-vector
    argument of (`rate` in rate(x[5m])), or None when it is not ranged."""
    if j < len(tokens) and tokens[j][0] == "range":
        return (stack[-1] if stack else None) or "(none)"
    return None


def analyse_promql(expr):
    """Returns (selectors, ranges): selectors are (metric_name, matchers,
    range_function) with matchers a list of (label, op, value) (None when
    the selector has no braces) and range_function the function whose range
    argument the selector is (None if it is an instant vector); ranges are
    (enclosing_function, range_text)."""
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
            matchers = None
            if nxt[0] == "braces":
                matchers = parse_matchers(nxt[1])
                j = i + 2
            else:
                j = i + 1
            selectors.append((text, matchers, _range_function(tokens, j, stack)))
            i = j
            continue
        if kind == "braces":  # bare {__name__="x", ...}
            matchers = parse_matchers(text)
            names = [v for (l, op, v) in matchers if l == "__name__"]
            if len(names) != 1 or [op for (l, op, v) in matchers if l == "__name__"] != ["="]:
                raise PromQLError(f"selector without a metric name (or a __name__ regex): {text}")
            selectors.append((names[0], matchers, _range_function(tokens, i + 1, stack)))
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
