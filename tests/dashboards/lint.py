#!/usr/bin/env python3
"""The project's own rules for its Grafana dashboards (docs/dashboards.md, "Checks"):

- panel ids unique; every panel inside the 24-column grid, none overlapping another;
- every variable a panel, title or variable query uses is defined (or Grafana's own), and every
  defined variable is used;
- every panel but a row has a unit, a data source (the $datasource variable) and queries with
  unique refIds;
- every range in a query is [$__rate_interval], and every rate()/increase() has one;
- every metric a query uses is documented in docs/metrics.md (Prometheus' own `up` and
  `scrape_*` aside);
- the scrape convention: every selector of a documented family filters on the job its section
  of docs/metrics.md names (guest and exporter families: $exporter_job; agent-only:
  $agent_job; balancer: $balancer_job), so that a Prometheus scraping agents and exporter never
  shows a guest twice.

usage: lint.py [DASHBOARD.json...]   (default: every dashboards/*.json); exit 1 on any problem.
"""
import re
import sys

import dashlib

JOB_OF_SECTION = {
    "Guest statistics (agent and exporter)": "exporter_job",
    "Exporter only": "exporter_job",
    "Agent only": "agent_job",
    "Balancer only": "balancer_job",
}
RANGE_FUNCTIONS = ("rate", "irate", "increase", "delta", "idelta", "deriv", "changes", "resets")


def lint(path, families):
    problems = []
    d = dashlib.load(path)

    def problem(where, text):
        problems.append(f"{path.name}: {where}: {text}")

    # Ids and the grid.
    seen_ids = {}
    boxes = []
    for panel in dashlib.all_panels(d):
        title = panel.get("title", "?")
        pid = panel.get("id")
        if pid is None:
            problem(title, "panel without an id")
        elif pid in seen_ids:
            problem(title, f"panel id {pid} also used by {seen_ids[pid]!r}")
        else:
            seen_ids[pid] = title
        g = panel.get("gridPos")
        if not g:
            problem(title, "no gridPos")
            continue
        x, y, w, h = g.get("x", -1), g.get("y", -1), g.get("w", 0), g.get("h", 0)
        if x < 0 or y < 0 or w <= 0 or h <= 0 or x + w > 24:
            problem(title, f"gridPos {g} outside the 24-column grid")
        for other_title, (ox, oy, ow, oh) in boxes:
            if x < ox + ow and ox < x + w and y < oy + oh and oy < y + h:
                problem(title, f"overlaps {other_title!r}")
        boxes.append((title, (x, y, w, h)))

    # Variables.
    variables = d.get("templating", {}).get("list", [])
    defined = {v["name"] for v in variables}
    used = set()
    for v in variables:
        refs = dashlib.variables_used(str(dashlib.variable_query(v)))
        if v.get("type") == "query":
            used |= refs
            if v.get("datasource", {}).get("uid") == "${datasource}":
                used.add("datasource")
        for ref in refs - defined - dashlib.BUILTIN_VARIABLES:
            problem(f"variable {v['name']}", f"uses undefined ${ref}")
    for panel in dashlib.all_panels(d):
        title = panel.get("title", "")
        texts = [title, panel.get("repeat", "") and "$" + panel["repeat"]]
        ds = panel.get("datasource") or {}
        texts.append(ds.get("uid", ""))
        for t in panel.get("targets", []) or []:
            texts += [t.get("expr", ""), t.get("legendFormat", "")]
            texts.append((t.get("datasource") or {}).get("uid", ""))
        refs = set()
        for text in texts:
            refs |= dashlib.variables_used(text)
        used |= refs
        for ref in refs - defined - dashlib.BUILTIN_VARIABLES:
            problem(title, f"uses undefined ${ref}")
    for name in defined - used:
        problem(f"variable {name}", "defined but never used")

    # Panels and their queries.
    for panel in dashlib.all_panels(d):
        if panel.get("type") == "row":
            continue
        title = panel.get("title", "?")
        unit = panel.get("fieldConfig", {}).get("defaults", {}).get("unit")
        if not unit:
            problem(title, "no unit (fieldConfig.defaults.unit)")
        if (panel.get("datasource") or {}).get("uid") != "${datasource}":
            problem(title, "data source is not ${datasource}")
        targets = panel.get("targets") or []
        if not targets:
            problem(title, "no queries")
        refids = [t.get("refId") for t in targets]
        if len(set(refids)) != len(refids) or None in refids:
            problem(title, f"refIds not unique: {refids}")
        for t in targets:
            expr = t.get("expr", "")
            where = f"{title} [{t.get('refId')}]"
            check_expr(expr, where, problem, families)

    # Variable queries use documented metrics with the right job too.
    for v in variables:
        if v.get("type") == "query":
            query = dashlib.variable_query(v)
            m = re.fullmatch(r"label_values\((.*),\s*[a-zA-Z_][a-zA-Z0-9_]*\)", query.strip())
            if not m:
                problem(f"variable {v['name']}", f"not a label_values(selector, label) query: {query}")
                continue
            check_expr(m.group(1), f"variable {v['name']}", problem, families, ranges=False)
    return problems


def check_expr(expr, where, problem, families, ranges=True):
    if not expr.strip():
        problem(where, "empty query")
        return
    if ranges:
        for r in re.findall(r"\[([^\]]*)\]", expr):
            if r != "$__rate_interval":
                problem(where, f"range [{r}] is not [$__rate_interval]")
        for fn in RANGE_FUNCTIONS:
            for m in re.finditer(r"\b" + fn + r"\s*\(", expr):
                # the argument up to the matching parenthesis
                depth, i = 1, m.end()
                while i < len(expr) and depth:
                    depth += {"(": 1, ")": -1}.get(expr[i], 0)
                    i += 1
                if "[$__rate_interval]" not in expr[m.end():i]:
                    problem(where, f"{fn}() without [$__rate_interval]")
    names = dashlib.selectors(expr)
    if not names:
        problem(where, "no metric in the query")
    for name, matchers in names:
        if name in dashlib.PROMETHEUS_SERIES:
            if "job" not in matchers:
                problem(where, f"{name} without a job matcher")
            continue
        section = dashlib.family_section(families, name)
        if section is None:
            problem(where, f"{name} is not in docs/metrics.md")
            continue
        job = JOB_OF_SECTION.get(section)
        if job is None:
            problem(where, f"{name}: docs/metrics.md section {section!r} names no scrape job")
        elif not re.search(r'\bjob=~?"\$' + job + '"', matchers):
            problem(where, f'{name} must select job=~"${job}" (scrape convention)')


def main(argv):
    paths = [dashlib.Path(p) for p in argv[1:]] or dashlib.dashboard_paths()
    if not paths:
        print("lint.py: no dashboards", file=sys.stderr)
        return 1
    families = dashlib.documented_families()
    problems = []
    for path in paths:
        problems += lint(path, families)
    for p in problems:
        print(p, file=sys.stderr)
    print(f"lint.py: {len(paths)} dashboards, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
