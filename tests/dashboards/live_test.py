#!/usr/bin/env python3
"""The dashboards on live data (docs/dashboards.md, "Checks").

Runs the simulated host (`xenballoon-sim run --no-prometheus`: xenstored-lite, real agents,
exporter and balancer) and a Prometheus of its own, configured from
config/prometheus/prometheus-fleet.yml (its file_sd target files written for the simulator's
ports, the scrape interval cut to 1 s) and serving config/prometheus/consoles/ with Debian's
console libraries. It scrapes the exporter, the balancer AND every agent, so that a query
without the scrape convention's job filter would show each guest twice. Then:

1. every query of every panel of every dashboard, its variables resolved as Grafana resolves
   them (label_values through the series API; All as a regex of every value; the guest
   dashboard once per guest), $__rate_interval as 1m, is evaluated over the HTTP API: each must
   return at least one series (a few named exceptions may be empty), all values finite and >= 0,
   no two series the same guest from two jobs, held memory and targets <= static-max, shares of
   static-max <= 1, stall shares <= 1;
2. headless chromium renders the console pages and, for each dashboard, the classic graph UI
   with its panels' queries, to PNGs in --pictures; each must show graphs (coloured plot pixels
   in more than one colour, not a blank page).

Every process it starts is stopped by PID (and gets SIGTERM should this script die).
"""
import argparse
import collections
import concurrent.futures
import ctypes
import itertools
import json
import math
import os
import random
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib
from pathlib import Path

import dashlib

SRC = dashlib.SOURCE_DIR
CONSOLE_LIBRARIES = Path("/usr/share/doc/prometheus/examples/console_libraries")
RATE_INTERVAL = "1m"
RANGE_SECONDS = 8  # the range queries' span, ending now
WARM_UP_SECONDS = 12  # after every target is up, before the first evaluation
DEADLINE_SECONDS = 45  # for the queries to become plausible, from every target up

SCENARIO = """name: dashboards
description: three small guests for the dashboards' live test
duration_hours: 1
host:
  memory_mib: 4096
guests:
  - name: web
    static_max_mib: 1024
    memory_mib: 1024
    swap_mib: 256
    working_set_mib: 32
    seed: 21
    workload:
      type: steady
      base_mib: 96
  - name: spiky
    static_max_mib: 1536
    memory_mib: 768
    swap_mib: 256
    working_set_mib: 32
    seed: 22
    workload:
      type: spike
      base_mib: 64
      spike_mib: 900
      spike_at_hours: [0.003]
      ramp_seconds: 10
      hold_minutes: 10
  - name: batch
    static_max_mib: 1024
    memory_mib: 512
    swap_mib: 128
    working_set_mib: 32
    seed: 23
    workload:
      type: steady
      base_mib: 200
"""

# Queries that may rightly return nothing on a healthy simulated host, and why.
MAY_BE_EMPTY = {
    ("xenballoon-fleet", "Balancer: guests not ok", "A"):
        "no guest is stuck, uncooperative, pinned or excluded in this scenario",
}

HELD_FAMILIES = {"xenballoon_balloon_current_bytes", "xenballoon_balloon_target_bytes",
                 "xenballoon_dom0_target_bytes", "xenballoon_balloon_floor_bytes",
                 "xenballoon_balancer_applied_target_bytes",
                 "xenballoon_balancer_proposed_target_bytes", "xenballoon_balancer_need_bytes"}


def log(*parts):
    print(*parts, flush=True)


def parent_death_signal():
    # The child gets SIGTERM when this test dies (PR_SET_PDEATHSIG).
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)


def port_free(port):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def free_ports(count):
    """`count` consecutive free ports on 127.0.0.1."""
    for _ in range(200):
        base = random.randint(20000, 60000 - count)
        if all(port_free(base + i) for i in range(count)):
            return base
    raise RuntimeError("no run of free ports")


def http_get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read().decode()


class Prom:
    def __init__(self, port):
        self.base = f"http://127.0.0.1:{port}"

    def api(self, path, **params):
        query = urllib.parse.urlencode(params, doseq=True)
        try:
            body = http_get(f"{self.base}/api/v1/{path}?{query}", timeout=10)
        except urllib.error.HTTPError as e:
            body = e.read().decode()
        reply = json.loads(body)
        if reply.get("status") != "success":
            raise RuntimeError(f"{path} {params}: {reply.get('error', body)}")
        return reply["data"]

    def label_values(self, selector, label):
        now = time.time()
        series = self.api("series", **{"match[]": selector, "start": now - 120, "end": now})
        return sorted({s[label] for s in series if label in s})


class Processes:
    """What this test started, stopped by PID in reverse order."""

    def __init__(self):
        self.procs = []

    def start(self, name, argv, log_path):
        log(f"starting {name}: {' '.join(map(str, argv))}")
        out = open(log_path, "w")
        p = subprocess.Popen([str(a) for a in argv], stdout=out, stderr=subprocess.STDOUT,
                             preexec_fn=parent_death_signal)
        self.procs.append((name, p, log_path))
        return p

    def stop_all(self):
        for name, p, _ in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
            log(f"{name} (pid {p.pid}) exited {p.returncode}")


def wait_for(what, predicate, timeout, interval=0.2):
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except Exception as e:  # not up yet
            last_error = e
        time.sleep(interval)
    raise RuntimeError(f"timed out waiting for {what}" + (f": {last_error}" if last_error else ""))


def read_state(path):
    state = {"urls": {}, "domains": []}
    for line in Path(path).read_text().splitlines():
        f = line.split()
        if not f:
            continue
        if f[0] == "url" and len(f) >= 3:
            state["urls"][f[1]] = f[2]
        elif f[0] == "domain" and len(f) >= 6:
            state["domains"].append({"domid": f[1], "name": f[2], "agent_url": f[5]})
    return state


def host_port(url):
    u = urllib.parse.urlparse(url)
    return f"{u.hostname}:{u.port}"


def guest_uuids(exporter_url):
    """{domain: (domid, uuid)} from the exporter's own /metrics."""
    out = {}
    for line in http_get(exporter_url).splitlines():
        if line.startswith("xenballoon_static_max_bytes{"):
            labels = dict(re.findall(r'(\w+)="([^"]*)"', line))
            out[labels["domain"]] = (labels["domid"], labels["uuid"])
    return out


def prometheus_config(workdir, exporter, balancer, agents):
    """config/prometheus/prometheus-fleet.yml as shipped, 1 s scrapes, targets for the sim."""
    text = (SRC / "config/prometheus/prometheus-fleet.yml").read_text()
    fast = text.replace("scrape_interval: 15s", "scrape_interval: 1s").replace(
        "evaluation_interval: 15s", "evaluation_interval: 1s")
    if fast.count(": 1s") != 2:
        raise RuntimeError("prometheus-fleet.yml: no 15s global intervals to shorten")
    prom_dir = workdir / "prometheus"
    (prom_dir / "targets").mkdir(parents=True, exist_ok=True)
    (prom_dir / "prometheus.yml").write_text(fast)
    # JSON is YAML: the target files under the names the configuration reads.
    files = {
        "xenballoon-exporter.yml": [{"targets": [exporter]}],
        "xenballoon-balancer.yml": [{"targets": [balancer]}],
        "xenballoond.yml": [{"targets": [a["address"]],
                             "labels": {"domain": a["domain"], "domid": a["domid"],
                                        "uuid": a["uuid"]}} for a in agents],
    }
    for name, content in files.items():
        (prom_dir / "targets" / name).write_text(json.dumps(content, indent=1))
    return prom_dir


# --- Variables -------------------------------------------------------------------------------

def regex_of(values):
    """What Grafana puts into a query for a multi-value variable: its values as a regex
    alternation, regex characters escaped for a PromQL string (prometheusRegularEscape)."""
    def escape(v):
        return re.sub(r"[$^*{}\[\]'+?.()|]", lambda m: "\\\\" + m.group(0),
                      v.replace("\\", "\\\\\\\\"))
    return "(" + "|".join(escape(v) for v in values) + ")"


def variable_sets(prom, dashboard):
    """Every assignment of the dashboard's variables Grafana could show by default: text boxes at
    their defaults, multi-value variables at All (a regex of every value), single-value ones at
    each of their values in turn."""
    assignments = [{}]
    for v in dashboard.get("templating", {}).get("list", []):
        name, kind = v["name"], v["type"]
        next_assignments = []
        for values in assignments:
            if kind == "datasource":
                options = ["prometheus"]
            elif kind in ("textbox", "constant", "custom"):
                options = [v["query"]]
            elif kind == "query":
                m = re.fullmatch(r"label_values\((.*),\s*([a-zA-Z_]+)\)",
                                 dashlib.variable_query(v).strip())
                selector = dashlib.substitute(m.group(1), values, RATE_INTERVAL)
                found = prom.label_values(selector, m.group(2))
                if not found:
                    raise RuntimeError(f"variable {name}: {selector} has no {m.group(2)} values")
                options = [regex_of(found)] if v.get("multi") or v.get("includeAll") else found
            else:
                raise RuntimeError(f"variable {name}: type {kind} not handled")
            for option in options:
                next_assignments.append({**values, name: option})
        assignments = next_assignments
    return assignments


# --- Plausibility ----------------------------------------------------------------------------

def static_max(prom):
    result = prom.api("query", query='xenballoon_static_max_bytes{job="xenballoon-exporter"}')
    return {(r["metric"].get("instance"), r["metric"]["domain"]): float(r["value"][1])
            for r in result["result"]}


def series_values(result):
    for r in result["result"]:
        if "values" in r:
            yield r["metric"], [float(v) for _, v in r["values"]]
        else:
            yield r["metric"], [float(r["value"][1])]


def problems_of(expr, result, maxima):
    """What is implausible about one query's result (empty list: nothing)."""
    problems = []
    seen = {}
    names = set(dashlib.metric_names(expr))
    bare = re.fullmatch(r"[a-z_]+\{[^}]*\}", expr.strip()) is not None
    for metric, values in series_values(result):
        labels = {k: v for k, v in metric.items() if k not in ("job", "instance")}
        key = json.dumps(labels, sort_keys=True)
        if key in seen:
            problems.append(f"the same series from two sources: {seen[key]} and {metric}")
        seen[key] = metric
        for value in values:
            if not math.isfinite(value):
                problems.append(f"{metric}: value {value} is not finite")
                break
            if value < 0:
                problems.append(f"{metric}: value {value} < 0")
                break
        if bare and names & HELD_FAMILIES and "domain" in metric:
            limit = maxima.get((metric.get("instance"), metric["domain"]))
            if limit is None:
                problems.append(f"{metric}: no static-max for this guest")
            elif max(values) > limit:
                problems.append(f"{metric}: {max(values)} above static-max {limit}")
        if "/ xenballoon_static_max_bytes" in expr and max(values) > 1.0001:
            problems.append(f"{metric}: share of static-max {max(values)} > 1")
        if "rate(xenballoon_pressure_memory_" in expr and max(values) > 1.05:
            problems.append(f"{metric}: stall share {max(values)} > 1")
    return problems


def evaluate_all(prom, deadline):
    """Every query of every dashboard; returns (number of evaluations, failures)."""
    pending = []
    for path in dashlib.dashboard_paths():
        d = dashlib.load(path)
        sets = variable_sets(prom, d)
        log(f"{path.name}: {len(sets)} variable assignment(s): "
            + "; ".join(f"domain={s.get('domain', '-')}" for s in sets))
        for values in sets:
            for panel, target in dashlib.queries(d):
                expr = dashlib.substitute(target["expr"], values, RATE_INTERVAL)
                key = (d["uid"], panel.get("title"), target.get("refId"))
                pending.append((key, expr, target.get("instant", False), values))
    evaluated = len(pending)
    failures = {}
    while pending:
        maxima = static_max(prom)
        still = []
        for key, expr, instant, values in pending:
            try:
                if instant:
                    result = prom.api("query", query=expr)
                else:
                    now = time.time()
                    result = prom.api("query_range", query=expr, start=now - RANGE_SECONDS,
                                      end=now, step=1)
                problems = problems_of(expr, result, maxima)
                if not result["result"] and key not in MAY_BE_EMPTY:
                    problems.append("no series")
            except Exception as e:
                problems = [f"error: {e}"]
            if problems:
                still.append((key, expr, instant, values))
                failures[(key, expr)] = problems
            else:
                failures.pop((key, expr), None)
        pending = still
        if pending:
            log(f"  {len(pending)} queries not yet plausible, e.g. "
                + "; ".join(f"{k[1]} [{k[2]}]: {failures[(k, e)][0][:80]}"
                            for k, e, _, _ in pending[:3]))
        if pending and time.monotonic() < deadline:
            time.sleep(2)
        else:
            break
    return evaluated, failures


# --- Pictures --------------------------------------------------------------------------------

def _add_bytes(x, y, low, high):
    """Bytewise addition modulo 256 of two integers holding byte strings (SWAR)."""
    return ((x & low) + (y & low)) ^ ((x ^ y) & high)


def png_pixels(path):
    """(width, height, rows, bytes per pixel) of an 8-bit RGB or RGBA PNG, decoded here with
    the standard library only. The filters that chromium's encoder mostly uses (Up, Sub) work
    on whole rows as integers; Average and Paeth go byte by byte."""
    data = Path(path).read_bytes()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{path}: not a PNG")
    pos, idat, header = 8, [], None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat.append(chunk)
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = header
    if depth != 8 or colour not in (2, 6) or interlace:
        raise ValueError(f"{path}: PNG depth {depth} colour type {colour} not handled")
    bpp = 3 if colour == 2 else 4
    raw = zlib.decompress(b"".join(idat))
    stride = width * bpp
    low = int.from_bytes(b"\x7f" * stride, "little")
    high = int.from_bytes(b"\x80" * stride, "little")
    everything = (1 << (8 * stride)) - 1
    rows, prev, i = [], bytes(stride), 0
    for _ in range(height):
        f, line = raw[i], raw[i + 1:i + 1 + stride]
        i += 1 + stride
        if f == 2:  # Up
            line = _add_bytes(int.from_bytes(line, "little"), int.from_bytes(prev, "little"),
                              low, high).to_bytes(stride, "little")
        elif f == 1:  # Sub: a prefix sum per channel, by doubling
            x, shift = int.from_bytes(line, "little"), bpp
            while shift < stride:
                x = _add_bytes(x, (x << (8 * shift)) & everything, low, high)
                shift *= 2
            line = x.to_bytes(stride, "little")
        elif f in (3, 4):
            out = bytearray(line)
            for k in range(stride):
                a = out[k - bpp] if k >= bpp else 0
                b = prev[k]
                if f == 3:
                    out[k] = (out[k] + (a + b) // 2) & 255
                else:
                    c = prev[k - bpp] if k >= bpp else 0
                    p = a + b - c
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    out[k] = (out[k] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
            line = bytes(out)
        elif f != 0:
            raise ValueError(f"{path}: unknown PNG filter {f}")
        rows.append(line)
        prev = line
    return width, height, rows, bpp


def picture_stats(path):
    """Non-white share, and the strongly coloured pixels (plot lines and areas: saturated, not
    the grey/black/white of text and axes) by colour, quantised to 32 levels."""
    width, height, rows, bpp = png_pixels(path)
    counts = collections.Counter()
    for row in rows:
        counts.update(zip(row[0::bpp], row[1::bpp], row[2::bpp]))
    non_white, coloured = 0, {}
    for (r, g, b), n in counts.items():
        if r < 245 or g < 245 or b < 245:
            non_white += n
        if max(r, g, b) - min(r, g, b) >= 80:
            q = (r >> 3, g >> 3, b >> 3)
            coloured[q] = coloured.get(q, 0) + n
    return non_white / (width * height), coloured


def screenshot(chromium, url, png, height, tmp):
    profile = tempfile.mkdtemp(prefix="chromium-", dir=tmp)
    argv = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
            "--no-first-run", "--disable-extensions", "--disable-dev-shm-usage",
            f"--user-data-dir={profile}", f"--window-size=1280,{height}",
            # Half the pixels each way: a quarter of the decoding, the lines still 1 px wide.
            "--force-device-scale-factor=0.5",
            "--virtual-time-budget=2500", f"--screenshot={png}", url]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=60,
                       preexec_fn=parent_death_signal)
    shutil.rmtree(profile, ignore_errors=True)
    if r.returncode != 0 or not Path(png).exists():
        raise RuntimeError(f"chromium exited {r.returncode}: {r.stderr[-2000:]}")


def graph_url(base, exprs, range_input="2m"):
    params = {}
    for i, e in enumerate(exprs):
        params[f"g{i}.expr"] = e
        params[f"g{i}.tab"] = "0"
        params[f"g{i}.range_input"] = range_input
    return f"{base}/classic/graph?" + urllib.parse.urlencode(params)


def picture_pages(prom):
    """(name, url, window height, graphs on the page, expected blank) of every picture."""
    # The graphs' time range: about as long as Prometheus has data, so the lines fill them.
    duration = "#pctc" + urllib.parse.quote(json.dumps({"duration": 30, "endTime": 0}))
    consoles = f"{prom.base}/consoles"
    domain = prom.label_values('xenballoon_static_max_bytes{job="xenballoon-exporter"}',
                               "domain")[0]
    pages = [("console-index", f"{consoles}/index.html", 900, 0, False),
             ("console-fleet", f"{consoles}/xenballoon-fleet.html{duration}", 2000, 5, False),
             ("console-guest", f"{consoles}/xenballoon-guest.html?domain={domain}{duration}",
              1500, 3, False)]
    classic, guest_graphs = [], 0
    for path in dashlib.dashboard_paths():
        d = dashlib.load(path)
        name = d["uid"].replace("xenballoon-", "")
        graphs = sum(1 for p in d["panels"] if p["type"] != "row")
        rows = sum(1 for p in d["panels"] if p["type"] == "row")
        param = f"?domain={domain}" if name == "guest" else ""
        if name == "guest":
            guest_graphs = graphs
        pages.append((f"console-dashboard-{name}",
                      f"{consoles}/dashboard-{name}.html{param}{duration}",
                      graphs * 395 + rows * 50 + 400, graphs, False))
        # For the classic graph UI: the first query of the dashboard's first two time series.
        values = variable_sets(prom, d)[0]
        classic += [dashlib.substitute(p["targets"][0]["expr"], values, RATE_INTERVAL)
                    for p in d["panels"] if p["type"] == "timeseries"][:2]
    pages.append(("classic-graph", graph_url(prom.base, classic, "30s"), 650 * len(classic) + 200,
                  len(classic), False))
    # The control: a guest that does not exist draws empty graphs, which must be judged blank.
    pages.append(("control-no-such-guest",
                  f"{consoles}/dashboard-guest.html?domain=no-such-guest{duration}",
                  guest_graphs * 395 + 400, guest_graphs, True))
    return pages


def judge(png, graphs):
    """(looks like graphs, description): enough strongly coloured pixels for the graphs on the
    page, in more than one colour where there is more than one graph."""
    non_white, coloured = picture_stats(png)
    # A colour counts when it covers 50 pixels or more: a plotted series, not anti-aliasing.
    colours = [n for n in coloured.values() if n >= 50]
    plotted = sum(colours)
    # Pixels at the screenshots' scale of 0.5. A graph's series span about 450 px each; a flat
    # line on a graph's edge shows about half of that; a page of empty graphs has about 50 (its
    # legends' colour boxes) per graph.
    need = 100 * max(graphs, 1)
    if graphs == 0:  # a page of links and text
        return non_white > 0.02, f"{non_white:.1%} not white"
    ok = non_white > 0.02 and plotted >= need and len(colours) >= min(graphs, 2)
    return ok, (f"{non_white:.1%} not white, {plotted} plot pixels (need {need}) in "
                f"{len(colours)} colours")


def pictures(prom, chromium, out_dir, tmp, pages):
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob("*.png"):
        old.unlink()

    def one(page):
        name, url, height, graphs, blank = page
        png = out_dir / f"{name}.png"
        started = time.monotonic()
        try:
            screenshot(chromium, url, png, height, tmp)
            ok, text = judge(png, graphs)
        except Exception as e:
            return f"{name}: {e}"
        passed = ok != blank
        log(f"{'ok  ' if passed else 'FAIL'} {png.name}: {text}"
            f"{' (a control: must look blank)' if blank else ''}, "
            f"{time.monotonic() - started:.1f} s")
        if passed:
            return None
        return f"{name}: {'looks blank' if not blank else 'the blank control passed'}: {text}"

    # Two at a time: the machine has two cores.
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        return [f for f in pool.map(one, pages) if f]


# --- Main ------------------------------------------------------------------------------------

def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sim", required=True)
    parser.add_argument("--prometheus", required=True)
    parser.add_argument("--chromium", required=True)
    parser.add_argument("--pictures", required=True)
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--no-pictures", action="store_true")
    args = parser.parse_args()

    started = time.monotonic()
    if not CONSOLE_LIBRARIES.is_dir():
        log(f"FAIL {CONSOLE_LIBRARIES} is missing (Debian's prometheus package ships it)")
        return 1
    if not args.no_pictures and not shutil.which(args.chromium):
        log(f"FAIL {args.chromium} not found: scripts/install-deps.sh test installs chromium")
        return 1
    workdir = Path(args.workdir)
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    (workdir / "scenario.yaml").write_text(SCENARIO)
    guests = 3
    base = free_ports(guests + 2)
    prom_port = free_ports(1)
    procs = Processes()
    failures = []
    try:
        sim = procs.start("xenballoon-sim", [
            args.sim, "run", "--scenario", workdir / "scenario.yaml", "--rundir", workdir / "run",
            "--base-port", base, "--no-prometheus", "--duration", 170], workdir / "sim.log")

        def state():
            if sim.poll() is not None:
                raise SystemExit(f"xenballoon-sim exited {sim.returncode}: "
                                 + (workdir / "sim.log").read_text()[-3000:])
            s = read_state(workdir / "run" / "state")
            return s if len(s["domains"]) == guests and "balancer" in s["urls"] else None

        s = wait_for("the simulator's state file", state, 30)
        uuids = wait_for("every guest in the exporter's /metrics",
                         lambda: (lambda u: u if len(u) == guests else None)(
                             guest_uuids(s["urls"]["exporter"])), 30)
        agents = [{"address": host_port(d["agent_url"]), "domain": d["name"],
                   "domid": d["domid"], "uuid": uuids[d["name"]][1]} for d in s["domains"]]
        prom_dir = prometheus_config(workdir, host_port(s["urls"]["exporter"]),
                                     host_port(s["urls"]["balancer"]), agents)
        procs.start("prometheus", [
            args.prometheus, f"--config.file={prom_dir / 'prometheus.yml'}",
            f"--storage.tsdb.path={prom_dir / 'data'}",
            f"--web.listen-address=127.0.0.1:{prom_port}",
            f"--web.console.templates={SRC / 'config/prometheus/consoles'}",
            f"--web.console.libraries={CONSOLE_LIBRARIES}", "--log.level=warn"],
            workdir / "prometheus.log")
        prom = Prom(prom_port)

        def all_up():
            targets = prom.api("targets")["activeTargets"]
            return len(targets) == guests + 2 and all(t["health"] == "up" for t in targets)

        wait_for("every target up", all_up, 30)
        log(f"every target up after {time.monotonic() - started:.1f} s")

        # The hazard the convention avoids is real here: unfiltered, every guest is there twice.
        doubled = prom.api("query", query="count by (domain) (xenballoon_balloon_current_bytes)")
        counts = {r["metric"]["domain"]: r["value"][1] for r in doubled["result"]}
        log(f"unfiltered xenballoon_balloon_current_bytes series per guest: {counts}")
        if sorted(counts.values()) != ["2"] * guests:
            failures.append(f"expected each guest from exporter and agent, got {counts}")
        # The checks can fail: unfiltered, the same guest comes from two sources; held memory
        # four times over is above static-max.
        held = "xenballoon_balloon_current_bytes"
        maxima = static_max(prom)
        if not any("from two sources" in p
                   for p in problems_of(held, prom.api("query", query=held), maxima)):
            failures.append(f"control: {held} without a job filter is not reported twice")
        exported = held + '{job="xenballoon-exporter"}'
        inflated = prom.api("query", query=exported)
        for r in inflated["result"]:
            r["value"][1] = str(float(r["value"][1]) * 4)
        if not any("above static-max" in p for p in problems_of(exported, inflated, maxima)):
            failures.append("control: held memory four times over is not above static-max")

        # Rates need two scrapes in their window and the agents publish every 5 s: let a few
        # publications be scraped before anything is judged.
        up_at = time.monotonic()
        time.sleep(WARM_UP_SECONDS)
        # The pictures are taken while the queries are evaluated (chromium is the slow part).
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as background:
            shots = None
            if not args.no_pictures:
                pages = picture_pages(prom)
                shots = background.submit(pictures, prom, args.chromium, Path(args.pictures),
                                          workdir, pages)
            evaluated, query_failures = evaluate_all(prom, up_at + DEADLINE_SECONDS)
            for (key, expr), problems in sorted(query_failures.items()):
                failures.append(f"{key[0]}: {key[1]} [{key[2]}]: {expr}\n    "
                                + "\n    ".join(problems))
            log(f"{evaluated} query evaluations, {len(query_failures)} failed, "
                f"{time.monotonic() - started:.1f} s")
            if shots is not None:
                picture_failures = shots.result()
                failures += picture_failures
                log(f"{len(pages)} pictures in {args.pictures}, {len(picture_failures)} failed, "
                    f"{time.monotonic() - started:.1f} s")
    finally:
        procs.stop_all()
    if procs.procs and procs.procs[0][1].returncode != 0:
        failures.append(f"xenballoon-sim exited {procs.procs[0][1].returncode}")
    for f in failures:
        log("FAIL " + f)
    log(f"{'FAILED' if failures else 'passed'} in {time.monotonic() - started:.1f} s")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
