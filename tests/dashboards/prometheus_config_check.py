#!/usr/bin/env python3
"""promtool check config on the scrape configurations in config/prometheus/ (one host; a fleet
with file_sd, whose example target files promtool checks too), and on broken copies of them,
which must fail.

usage: prometheus_config_check.py PROMTOOL
"""
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import dashlib

CONFIG = dashlib.SOURCE_DIR / "config" / "prometheus"


def check(promtool, path):
    r = subprocess.run([promtool, "check", "config", str(path)], capture_output=True, text=True)
    return r.returncode, r.stdout + r.stderr


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    promtool = argv[1]
    failures = 0
    for name in ("prometheus-host.yml", "prometheus-fleet.yml"):
        code, out = check(promtool, CONFIG / name)
        print(out.strip())
        if code != 0 or "SUCCESS" not in out:
            failures += 1
        if name == "prometheus-fleet.yml" and "does not exist" in out:
            print("FAIL an example target file is missing")
            failures += 1
    # Broken copies: a misspelled key in the configuration, and in a target file.
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "fleet"
        shutil.copytree(CONFIG, copy)
        fleet = copy / "prometheus-fleet.yml"
        text = fleet.read_text()
        fleet.write_text(text.replace("file_sd_configs:", "file_sd_config:", 1))
        code, out = check(promtool, fleet)
        print(f"misspelled key in the configuration: exit {code}")
        failures += code == 0
        fleet.write_text(text)
        targets = copy / "targets" / "xenballoond.yml"
        targets.write_text(targets.read_text().replace("labels:", "label:", 1))
        code, out = check(promtool, fleet)
        print(f"misspelled key in a target file: exit {code}")
        failures += code == 0
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
