#!/usr/bin/env python3
"""The strict-schema check of the dashboards, in steps that ctest runs as fixtures:

  schema_check.py install  WORKDIR   npm ci of package-lock.json into WORKDIR (skipped when
                                     WORKDIR already holds exactly that lock's packages)
  schema_check.py generate WORKDIR   WORKDIR/dashboard.schema.json from schema.ts with
                                     ts-json-schema-generator (@grafana/schema's types)
  schema_check.py validate WORKDIR   every dashboards/*.json valid (ajv, strict)
  schema_check.py rejects  WORKDIR   broken copies (a misspelled key at each level, a wrong
                                     type, a missing required key) each fail, naming the problem

The schema is generated at test time, not committed: it is a pure function of the pinned
packages and schema.ts, half a megabyte, and takes a few seconds to make.
"""
import copy
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import dashlib

HERE = Path(__file__).resolve().parent


def run(argv, cwd, **kw):
    print("+ " + " ".join(str(a) for a in argv), flush=True)
    return subprocess.run([str(a) for a in argv], cwd=cwd, **kw)


def install(work):
    work.mkdir(parents=True, exist_ok=True)
    lock = (HERE / "package-lock.json").read_text()
    installed = work / "node_modules" / ".package-lock.json"
    if (work / "package-lock.json").exists() and (work / "package-lock.json").read_text() == lock \
            and installed.exists():
        print("npm packages already installed in", work)
        return 0
    for name in ("package.json", "package-lock.json"):
        shutil.copyfile(HERE / name, work / name)
    r = run(["npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--prefer-offline"],
            work)
    return r.returncode


def generate(work):
    for name in ("schema.ts", "tsconfig.json", "validate.mjs"):
        shutil.copyfile(HERE / name, work / name)
    out = work / "dashboard.schema.json"
    r = run([work / "node_modules" / ".bin" / "ts-json-schema-generator", "--path", "schema.ts",
             "--tsconfig", "tsconfig.json", "--type", "XenballoonDashboard", "--expose", "none",
             "--out", out], work)
    if r.returncode != 0:
        return r.returncode
    schema = json.loads(out.read_text())
    body = json.dumps(schema)
    # The generated schema must be closed: that is what makes misspelled keys fail.
    if body.count('"additionalProperties": false') < 50:
        print("generated schema is not closed (additionalProperties: false)", file=sys.stderr)
        return 1
    print(f"{out}: {len(body)} bytes")
    return 0


def validate(work, paths):
    # The copy beside node_modules, so that it finds ajv.
    return run(["node", work / "validate.mjs", work / "dashboard.schema.json", *paths],
               work, capture_output=True, text=True)


def broken_copies():
    """(what, expected text in the validator's output, dashboard) for each deliberate mistake."""
    base = dashlib.load(dashlib.DASHBOARD_DIR / "xenballoon-fleet.json")
    panel = next(i for i, p in enumerate(base["panels"]) if p["type"] == "timeseries")
    stat = next(i for i, p in enumerate(base["panels"]) if p["type"] == "stat")

    def mutate(fn):
        d = copy.deepcopy(base)
        fn(d)
        return d

    def rename(obj, old, new):
        obj[new] = obj.pop(old)

    yield "top-level key misspelled", "(titel)", mutate(lambda d: rename(d, "title", "titel"))
    yield "panel key misspelled", "(gridpos)", mutate(
        lambda d: rename(d["panels"][panel], "gridPos", "gridpos"))
    yield "panel option misspelled", "(legnd)", mutate(
        lambda d: rename(d["panels"][panel]["options"], "legend", "legnd"))
    yield "field config misspelled", "(unti)", mutate(
        lambda d: rename(d["panels"][panel]["fieldConfig"]["defaults"], "unit", "unti"))
    yield "query key misspelled", "(legendformat)", mutate(
        lambda d: rename(d["panels"][panel]["targets"][0], "legendFormat", "legendformat"))
    yield "variable key misspelled", "(inclueAll)", mutate(
        lambda d: rename(d["templating"]["list"][-1], "includeAll", "inclueAll"))
    yield "stat option of a wrong type", "/options/graphMode", mutate(
        lambda d: d["panels"][stat]["options"].update(graphMode="sparkline"))
    yield "gridPos of a wrong type", "/gridPos/w", mutate(
        lambda d: d["panels"][panel]["gridPos"].update(w="12"))
    yield "required key missing", "schemaVersion", mutate(lambda d: d.pop("schemaVersion"))
    yield "unknown panel kind", "/type", mutate(
        lambda d: d["panels"][panel].update(type="graph"))


def rejects(work):
    """Every broken copy in one run of the validator (compiling the schema takes a second)."""
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        cases = list(broken_copies())
        paths = []
        for index, (_, _, dashboard) in enumerate(cases):
            path = Path(tmp) / f"broken-{index}.json"
            path.write_text(json.dumps(dashboard))
            paths.append(path)
        r = validate(work, paths)
        # The validator's report: "<path>: valid" or "<path>: N schema errors" and indented lines.
        sections, current = {}, None
        for line in (r.stdout + r.stderr).splitlines():
            for path in paths:
                if line.startswith(f"{path}: "):
                    current = path
                    sections[current] = [line]
                    break
            else:
                if current is not None and line.startswith("  "):
                    sections[current].append(line)
        if r.returncode != 1:
            print(f"FAIL the validator exited {r.returncode}, not 1")
            failures += 1
        for path, (what, expected, _) in zip(paths, cases):
            report = "\n".join(sections.get(path, ["(no report)"]))
            ok = "schema errors" in report and expected in report
            print(f"{'ok  ' if ok else 'FAIL'} {what}: expected {expected!r} in the report")
            if not ok:
                print(report)
                failures += 1
    return 1 if failures else 0


def main(argv):
    if len(argv) != 3 or argv[1] not in ("install", "generate", "validate", "rejects"):
        print(__doc__, file=sys.stderr)
        return 2
    work = Path(argv[2]).resolve()
    if argv[1] == "install":
        return install(work)
    if argv[1] == "generate":
        return generate(work)
    if argv[1] == "validate":
        r = validate(work, dashlib.dashboard_paths())
        print(r.stdout + r.stderr)
        return r.returncode
    return rejects(work)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
