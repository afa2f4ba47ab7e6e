#!/usr/bin/env python3
"""lint.py can fail: each deliberate mistake in a copy of the fleet dashboard is reported."""
import copy
import json
import sys
import tempfile
from pathlib import Path

import dashlib
import lint


def first(d, kind="timeseries"):
    return next(p for p in d["panels"] if p["type"] == kind)


def cases():
    def mutate(fn):
        def apply(d):
            fn(d)
            return d
        return apply

    yield "duplicate panel id", "also used by", mutate(
        lambda d: d["panels"][2].update(id=d["panels"][1]["id"]))
    yield "panel wider than the grid", "outside the 24-column grid", mutate(
        lambda d: first(d)["gridPos"].update(x=20, w=8))
    yield "overlapping panels", "overlaps", mutate(
        lambda d: d["panels"][2]["gridPos"].update(d["panels"][1]["gridPos"]))
    yield "no unit", "no unit", mutate(
        lambda d: first(d)["fieldConfig"]["defaults"].pop("unit"))
    yield "rate over a fixed range", "is not [$__rate_interval]", mutate(
        lambda d: first(d, "stat")["targets"][0].update(
            expr='rate(xenballoon_vmstat_pswpin_total{job=~"$exporter_job"}[5m])'))
    yield "undocumented metric", "is not in docs/metrics.md", mutate(
        lambda d: first(d)["targets"][0].update(
            expr='xenballoon_not_a_family_bytes{job=~"$exporter_job"}'))
    yield "guest family without the exporter job", "scrape convention", mutate(
        lambda d: first(d)["targets"][0].update(
            expr='xenballoon_balloon_current_bytes{domain=~"$domain"}'))
    yield "agent family read from the exporter job", 'must select job=~"$agent_job"', mutate(
        lambda d: first(d)["targets"][0].update(
            expr='xenballoon_adjustments_total{job=~"$exporter_job"}'))
    yield "undefined variable", "uses undefined $nosuch", mutate(
        lambda d: first(d)["targets"][0].update(
            expr='xenballoon_static_max_bytes{job=~"$exporter_job",domain=~"$nosuch"}'))
    yield "unused variable", "defined but never used", mutate(
        lambda d: d["templating"]["list"].append(
            {"name": "spare", "type": "textbox", "query": "x"}))
    yield "panel without the datasource variable", "data source is not ${datasource}", mutate(
        lambda d: first(d).update(datasource={"type": "prometheus", "uid": "abc"}))


def main():
    base = dashlib.load(dashlib.DASHBOARD_DIR / "xenballoon-fleet.json")
    families = dashlib.documented_families()
    if lint.lint(dashlib.DASHBOARD_DIR / "xenballoon-fleet.json", families):
        print("FAIL the unmodified fleet dashboard has problems")
        return 1
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        for what, expected, apply in cases():
            path = Path(tmp) / "broken.json"
            path.write_text(json.dumps(apply(copy.deepcopy(base))))
            problems = lint.lint(path, families)
            ok = any(expected in p for p in problems)
            print(f"{'ok  ' if ok else 'FAIL'} {what}: expected {expected!r}")
            if not ok:
                print("  got: " + "\n       ".join(problems or ["no problems"]))
                failures += 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
