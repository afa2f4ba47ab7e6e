#!/usr/bin/env python3
"""Every query of every dashboard parses as PromQL, checked offline by promtool.

Debian's Prometheus 2.42 has no offline `promtool` command for one query (`promtool query`
needs a server, and 2.42 answers /api/v1/parse_query with 404), so the queries go, with
their variables substituted as Grafana would, into a rule file of recording rules that
`promtool check rules` parses. A deliberately broken query is checked too, so that this test can
fail.

usage: parse_queries.py PROMTOOL
"""
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import dashlib

# What Grafana puts in place of each variable: the defaults, and a regex for the chosen values.
SAMPLE_VALUES = {"datasource": "prometheus", "exporter_job": "xenballoon-exporter",
                 "agent_job": "xenballoond", "balancer_job": "xenballoon-balancer",
                 "instance": "xen1|xen2", "domain": "web|db", "uuid": ".*"}


def rule_file(exprs):
    # JSON is YAML: one recording rule per query.
    rules = [{"record": f"dashboard:query_{i}", "expr": e} for i, e in enumerate(exprs)]
    return json.dumps({"groups": [{"name": "dashboard-queries", "rules": rules}]}, indent=1)


def check(promtool, exprs, tmp):
    path = Path(tmp) / "queries.rules.json"
    path.write_text(rule_file(exprs))
    return subprocess.run([promtool, "check", "rules", str(path)], capture_output=True, text=True)


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    promtool = argv[1]
    exprs, where = [], []
    for path in dashlib.dashboard_paths():
        d = dashlib.load(path)
        for panel, target in dashlib.queries(d):
            exprs.append(dashlib.substitute(target["expr"], SAMPLE_VALUES))
            where.append(f"{path.name}: {panel.get('title')} [{target.get('refId')}]")
    with tempfile.TemporaryDirectory() as tmp:
        r = check(promtool, exprs, tmp)
        if r.returncode != 0:
            print(r.stdout + r.stderr)
            # Name the failing queries one by one.
            for w, e in zip(where, exprs):
                one = check(promtool, [e], tmp)
                if one.returncode != 0:
                    print(f"does not parse: {w}: {e}\n{one.stdout}{one.stderr}")
            return 1
        print(f"{len(exprs)} queries parse")
        broken = check(promtool, ['rate(xenballoon_vmstat_pswpin_total{job="x"}[1m]'], tmp)
        if broken.returncode == 0:
            print("FAIL promtool accepted a query with a missing parenthesis")
            return 1
        print("a broken query is refused: " + (broken.stdout + broken.stderr).strip().splitlines()[-1])
    return 0 if len(exprs) > 50 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
