"""Shared by the dashboard checks: reading dashboards and docs/metrics.md, walking panels and
queries, extracting metric names from PromQL, substituting Grafana variables. Standard library
only."""
import json
import re
from pathlib import Path

SOURCE_DIR = Path(__file__).resolve().parents[2]
DASHBOARD_DIR = SOURCE_DIR / "dashboards"

# Grafana's own variables a query may use.
BUILTIN_VARIABLES = {"__rate_interval", "__interval", "__interval_ms", "__range", "__range_s",
                     "__range_ms", "__from", "__to", "__all", "__dashboard", "__name", "__org",
                     "__user", "__timeFilter"}

# Series Prometheus makes itself for every target; not in docs/metrics.md.
PROMETHEUS_SERIES = {"up", "scrape_duration_seconds", "scrape_samples_scraped",
                     "scrape_samples_post_metric_relabeling", "scrape_series_added"}

PROMQL_WORDS = {
    # aggregations and keywords
    "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values",
    "bottomk", "topk", "quantile", "by", "without", "on", "ignoring", "group_left",
    "group_right", "offset", "bool", "and", "or", "unless", "atan2", "inf", "nan",
    # functions
    "abs", "absent", "absent_over_time", "ceil", "changes", "clamp", "clamp_max", "clamp_min",
    "day_of_month", "day_of_week", "day_of_year", "days_in_month", "delta", "deriv", "exp",
    "floor", "histogram_quantile", "histogram_count", "histogram_sum", "histogram_fraction",
    "holt_winters", "hour", "idelta", "increase", "irate", "label_join", "label_replace", "ln",
    "log2", "log10", "minute", "month", "predict_linear", "rate", "resets", "round", "scalar",
    "sgn", "sort", "sort_desc", "sqrt", "time", "timestamp", "vector", "year", "avg_over_time",
    "min_over_time", "max_over_time", "sum_over_time", "count_over_time", "quantile_over_time",
    "stddev_over_time", "stdvar_over_time", "last_over_time", "present_over_time", "acos",
    "acosh", "asin", "asinh", "atan", "atanh", "cos", "cosh", "sin", "sinh", "tan", "tanh",
    "deg", "rad", "pi", "label_values",
}


def dashboard_paths():
    return sorted(DASHBOARD_DIR.glob("*.json"))


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def all_panels(dashboard):
    """Every panel, rows and the panels folded into rows included."""
    for panel in dashboard.get("panels", []):
        yield panel
        for inner in panel.get("panels", []) or []:
            yield inner


def queries(dashboard):
    """(panel, target) for every query of every panel."""
    for panel in all_panels(dashboard):
        for target in panel.get("targets", []) or []:
            yield panel, target


def variable_query(variable):
    query = variable.get("query", "")
    if isinstance(query, dict):
        query = query.get("query", "")
    return query


def documented_families(doc=SOURCE_DIR / "docs" / "metrics.md"):
    """{regex: section title} for every family row of docs/metrics.md."""
    families = {}
    section = ""
    for line in Path(doc).read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            section = line[3:].strip()
        m = re.match(r"^\| `(xenballoon_[a-z0-9_<>]+)` \|", line)
        if m:
            pattern = re.sub(r"<[a-z]+>", "[a-z0-9_]+", m.group(1))
            families[re.compile("^" + pattern + "$")] = section
    return families


def family_section(families, name):
    """docs/metrics.md's section of a series name (a histogram's _bucket/_sum/_count included),
    or None when it is not documented."""
    candidates = [name]
    m = re.match(r"^(.*)_(bucket|sum|count)$", name)
    if m:
        candidates.append(m.group(1))
    for candidate in candidates:
        for pattern, section in families.items():
            if pattern.match(candidate):
                return section
    return None


def _blank_strings(expr):
    """The query with the contents of its string literals blanked (same length, same offsets)."""
    return re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'',
                  lambda m: m.group(0)[0] + "_" * (len(m.group(0)) - 2) + m.group(0)[0], expr)


def selectors(expr):
    """(metric name, matcher text) for every vector selector with a metric name."""
    text = _blank_strings(expr)
    out = []
    for m in re.finditer(r"(?<![$A-Za-z0-9_:])([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\{[^}]*\})?", text):
        name = m.group(1)
        before = text[:m.start()]
        after = text[m.end():].lstrip()
        if name in PROMQL_WORDS:
            continue
        if before.count("{") > before.count("}") or before.count("[") > before.count("]"):
            continue  # a label name inside a selector, or a duration inside a range
        if before.count('"') % 2 or before.count("'") % 2:
            continue  # inside a string
        if after.startswith("("):
            continue  # a function call
        if re.search(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^()]*$", before):
            continue  # a label list
        if re.fullmatch(r"[0-9].*", name):
            continue
        matchers = expr[m.start(2):m.end(2)] if m.group(2) else ""
        out.append((name, matchers))
    return out


def metric_names(expr):
    return [name for name, _ in selectors(expr)]


VARIABLE = re.compile(r"\$(?:\{([A-Za-z0-9_]+)(?::[a-z]+)?\}|([A-Za-z0-9_]+))")


def variables_used(text):
    return {a or b for a, b in VARIABLE.findall(text)}


def substitute(expr, values, rate_interval="1m"):
    """A query as Grafana would send it: $__rate_interval and every variable replaced.
    values: {name: text}; a multi-value or All variable should be given as a regex
    alternation, which is what Grafana puts into =~ matchers."""
    def repl(m):
        name = m.group(1) or m.group(2)
        if name == "__rate_interval":
            return rate_interval
        if name not in values:
            raise KeyError(f"no value for variable ${name}")
        return values[name]
    return VARIABLE.sub(repl, expr)
