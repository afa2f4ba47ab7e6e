#!/usr/bin/env python3
"""Writes the Grafana dashboards in this directory and the same panels as Prometheus console
pages in config/prometheus/consoles/dashboard-*.html (docs/dashboards.md).

The dashboards are plain JSON files, committed; this script is how they are made, so that the
three share their variables, data source references, panel defaults and layout. Edit the tables
below, run `dashboards/generate.py`, commit both. `--check` exits 1 when a committed file differs
from what this script writes (a ctest runs it).

Scrape convention (docs/dashboards.md): guest statistics come from the dom0 exporter only (job
$exporter_job, one target per Xen host, `instance` = the host); the agents' own families from job
$agent_job; the balancer's from job $balancer_job (same `instance` as the host's exporter).
"""
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
GRAFANA_VERSION = "11.6.0"  # the oldest Grafana these files are written for (@grafana/schema 11.6)
SCHEMA_VERSION = 41  # Grafana 11.6's dashboard schemaVersion
DS = {"type": "prometheus", "uid": "${datasource}"}

# Selectors. Every guest family is read from the exporter only.
EXP = 'job=~"$exporter_job",instance=~"$instance"'
GUESTS = EXP + ',domain=~"$domain"'
ONE_GUEST = EXP + ',domain="$domain"'
AGENT = 'job=~"$agent_job",uuid=~"$uuid"'
AGENTS = 'job=~"$agent_job"'
BAL = 'job=~"$balancer_job",instance=~"$instance"'


def var_datasource():
    return {
        "name": "datasource",
        "label": "Data source",
        "type": "datasource",
        "query": "prometheus",
        "current": {"text": "${DS_PROMETHEUS}", "value": "${DS_PROMETHEUS}"},
        "hide": 0,
    }


def var_job(name, label, default, description):
    return {
        "name": name,
        "label": label,
        "type": "textbox",
        "query": default,
        "current": {"text": default, "value": default},
        "description": description,
        "hide": 0,
    }


def var_query(name, label, query, multi, include_all=None, hide=0, description=None):
    include_all = multi if include_all is None else include_all
    v = {
        "name": name,
        "label": label,
        "type": "query",
        "datasource": DS,
        # The classic string form, which every Grafana version reads (newer ones turn it into
        # their query editor's object when the variable is edited).
        "query": query,
        "refresh": 2,
        "sort": 1,
        "includeAll": include_all,
        "multi": multi,
        "hide": hide,
        "current": {"text": "All", "value": "$__all"} if include_all else {"text": "", "value": ""},
    }
    if description:
        v["description"] = description
    return v


EXPORTER_JOB = var_job(
    "exporter_job",
    "Exporter job",
    "xenballoon-exporter",
    "Scrape job of xenballoon-exporter: the one source of guest statistics",
)
AGENT_JOB = var_job(
    "agent_job",
    "Agent job",
    "xenballoond",
    "Scrape job of the agents' own /metrics (optional; agent-only families)",
)
BALANCER_JOB = var_job(
    "balancer_job", "Balancer job", "xenballoon-balancer", "Scrape job of xenballoon-balancer"
)
INSTANCE = var_query(
    "instance",
    "Host",
    'label_values(xenballoon_exporter_guests{job=~"$exporter_job"},instance)',
    multi=True,
    description="Xen host: the exporter's instance",
)
DOMAINS = var_query(
    "domain",
    "Guest",
    "label_values(xenballoon_static_max_bytes{" + EXP + "},domain)",
    multi=True,
)
DOMAIN = var_query(
    "domain",
    "Guest",
    "label_values(xenballoon_static_max_bytes{" + EXP + "},domain)",
    multi=False,
)
UUID = var_query(
    "uuid",
    "Guest uuid",
    "label_values(xenballoon_static_max_bytes{" + ONE_GUEST + "},uuid)",
    multi=False,
    hide=2,
    description="The chosen guest's uuid: how the agent's own series (job $agent_job) are found",
)


def q(expr, legend, instant=False):
    t = {"datasource": DS, "expr": expr, "legendFormat": legend, "range": not instant}
    if instant:
        t["instant"] = True
        t["format"] = "table" if legend == "__table" else "time_series"
        if legend == "__table":
            t["legendFormat"] = "__auto"
    return t


def thresholds(*steps):
    out = [{"color": "green", "value": None}]
    for color, value in steps:
        out.append({"color": color, "value": value})
    return {"mode": "absolute", "steps": out}


def timeseries(title, unit, targets, w=12, h=8, description=None, stack=False, min0=True,
               repeat=None, legend_calcs=None):
    custom = {
        "drawStyle": "line",
        "lineWidth": 1,
        "fillOpacity": 20 if stack else 0,
        "showPoints": "never",
        "spanNulls": False,
        "stacking": {"mode": "normal" if stack else "none", "group": "A"},
    }
    p = {
        "type": "timeseries",
        "title": title,
        "w": w,
        "h": h,
        "fieldConfig": {
            "defaults": {"unit": unit, "custom": custom, "color": {"mode": "palette-classic"}},
            "overrides": [],
        },
        "options": {
            "legend": {
                "showLegend": True,
                "displayMode": "table" if legend_calcs else "list",
                "placement": "bottom",
                "calcs": legend_calcs or [],
            },
            "tooltip": {"mode": "multi", "sort": "desc"},
        },
        "targets": targets,
    }
    if min0:
        p["fieldConfig"]["defaults"]["min"] = 0
    if description:
        p["description"] = description
    if repeat:
        p["repeat"] = repeat
        p["repeatDirection"] = "h"
        p["maxPerRow"] = 3
    return p


def stat(title, unit, targets, w=4, h=4, description=None, steps=(), calc="lastNotNull"):
    p = {
        "type": "stat",
        "title": title,
        "w": w,
        "h": h,
        "fieldConfig": {
            "defaults": {"unit": unit, "thresholds": thresholds(*steps),
                         "color": {"mode": "thresholds"}},
            "overrides": [],
        },
        "options": {
            "reduceOptions": {"calcs": [calc], "fields": "", "values": False},
            "orientation": "auto",
            "textMode": "auto",
            "colorMode": "value",
            "graphMode": "area",
            "justifyMode": "auto",
            "wideLayout": True,
            "showPercentChange": False,
            "percentChangeColorMode": "standard",
        },
        "targets": targets,
    }
    if description:
        p["description"] = description
    return p


def bargauge(title, unit, targets, w=12, h=8, description=None, steps=()):
    p = {
        "type": "bargauge",
        "title": title,
        "w": w,
        "h": h,
        "fieldConfig": {
            "defaults": {"unit": unit, "min": 0, "thresholds": thresholds(*steps),
                         "color": {"mode": "thresholds"}},
            "overrides": [],
        },
        "options": {
            "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
            "orientation": "horizontal",
            "displayMode": "gradient",
            "valueMode": "color",
            "namePlacement": "auto",
            "showUnfilled": True,
            "sizing": "auto",
            "minVizWidth": 8,
            "minVizHeight": 16,
            "maxVizHeight": 300,
            "legend": {"showLegend": False, "displayMode": "list", "placement": "bottom",
                       "calcs": []},
        },
        "targets": targets,
    }
    if description:
        p["description"] = description
    return p


def table(title, unit, targets, w=12, h=8, description=None, steps=()):
    p = {
        "type": "table",
        "title": title,
        "w": w,
        "h": h,
        "fieldConfig": {
            "defaults": {"unit": unit, "thresholds": thresholds(*steps),
                         "color": {"mode": "thresholds"},
                         "custom": {"align": "auto", "cellOptions": {"type": "color-text"},
                                    "inspect": False}},
            "overrides": [],
        },
        "options": {"showHeader": True, "frameIndex": 0, "cellHeight": "sm"},
        "targets": targets,
        "transformations": [
            {"id": "organize", "options": {
                "excludeByName": {"Time": True, "__name__": True, "job": True, "uuid": True},
                "renameByName": {"Value": title}}},
        ],
    }
    if description:
        p["description"] = description
    return p


def row(title):
    return {"type": "row", "title": title, "collapsed": False, "panels": [], "w": 24, "h": 1}


def layout(items):
    """Grid positions (left to right, wrapping at 24 columns) and ids in order."""
    panels, x, y, row_h, next_id = [], 0, 0, 0, 1
    for item in items:
        w, h = item.pop("w"), item.pop("h")
        if item["type"] == "row" or x + w > 24:
            x, y, row_h = 0, y + row_h, 0
        item["gridPos"] = {"h": h, "w": w, "x": x, "y": y}
        item["id"] = next_id
        next_id += 1
        if item["type"] != "row":
            item["datasource"] = DS
            for i, t in enumerate(item["targets"]):
                t["refId"] = chr(ord("A") + i)
        x += w
        row_h = max(row_h, h)
        # A row, or a repeated panel (Grafana fills the rest of the grid row with its copies),
        # ends the grid row.
        if item["type"] == "row" or "repeat" in item:
            x, y, row_h = 0, y + h, 0
        panels.append(item)
    return panels


def dashboard(uid, title, description, variables, items, panel_types, links_tag="xenballoon"):
    return {
        "__inputs": [
            {
                "name": "DS_PROMETHEUS",
                "label": "Prometheus",
                "description": "The Prometheus that scrapes xenballoon-exporter (and optionally the agents and the balancer)",
                "type": "datasource",
                "pluginId": "prometheus",
                "pluginName": "Prometheus",
            }
        ],
        "__requires": [
            {"type": "grafana", "id": "grafana", "name": "Grafana", "version": GRAFANA_VERSION},
            {"type": "datasource", "id": "prometheus", "name": "Prometheus", "version": "1.0.0"},
        ]
        + [
            {"type": "panel", "id": kind, "name": name, "version": ""}
            for kind, name in sorted(panel_types.items())
        ],
        "uid": uid,
        "title": title,
        "description": description,
        "tags": ["xen", "memory", "xenballoon"],
        "editable": True,
        "graphTooltip": 1,
        "schemaVersion": SCHEMA_VERSION,
        "version": 1,
        "time": {"from": "now-6h", "to": "now"},
        "timezone": "browser",
        "refresh": "30s",
        "fiscalYearStartMonth": 0,
        "liveNow": False,
        "links": [
            {
                "title": "xenballoon dashboards",
                "type": "dashboards",
                "tags": [links_tag],
                "asDropdown": True,
                "icon": "external link",
                "includeVars": True,
                "keepTime": True,
                "targetBlank": False,
                "tooltip": "",
            }
        ],
        "annotations": {"list": [{
            "builtIn": 1,
            "datasource": {"type": "grafana", "uid": "-- Grafana --"},
            "enable": True,
            "hide": True,
            "iconColor": "rgba(0, 211, 255, 1)",
            "name": "Annotations & Alerts",
            "type": "dashboard",
        }]},
        "templating": {"list": variables},
        "panels": layout(items),
    }


PANEL_NAMES = {"timeseries": "Time series", "stat": "Stat", "bargauge": "Bar gauge",
               "table": "Table"}


def kinds(items):
    return {i["type"]: PANEL_NAMES[i["type"]] for i in items if i["type"] != "row"}


# --- Fleet -------------------------------------------------------------------------------------

def fleet():
    items = [
        row("Hosts"),
        stat("Guests", "short", [q("sum(xenballoon_exporter_guests{" + EXP + "})", "guests")],
             description="Guest domains the exporters see"),
        stat("Guests without an agent", "short", [q(
            "sum(xenballoon_exporter_guests{" + EXP + "}) - sum(xenballoon_exporter_guests_with_agent{" + EXP + "})",
            "without agent")], steps=[("orange", 1)],
            description="Guests that do not publish the data/xenballoon/ layout: no agent, or an agent that never published"),
        stat("Memory given back", "bytes", [q(
            "sum(xenballoon_static_max_bytes{" + GUESTS + "} - xenballoon_balloon_current_bytes{" + GUESTS + "})",
            "given back")], description="Σ (static-max − held) over the chosen guests"),
        stat("Overcommit ratio", "percentunit", [q(
            "sum by (instance) (xenballoon_static_max_bytes{" + EXP + "}) / on (instance) xenballoon_host_memory_total_bytes{" + EXP + "}",
            "{{instance}}")], steps=[("orange", 1.0), ("red", 1.5)],
            description="Σ static-max of a host's guests / its memory: above 100 % the guests could ask for more than the host has"),
        stat("Host free memory", "bytes", [q(
            "xenballoon_host_memory_free_bytes{" + EXP + "}", "{{instance}}")],
            description="Free host memory (xc_physinfo; absent without libxenctrl)"),
        stat("Stale agents", "short", [q(
            "count by (instance) (time() - xenballoon_heartbeat_timestamp_seconds{" + GUESTS + "} > 60) or sum by (instance) (0 * xenballoon_exporter_guests{" + EXP + "})",
            "{{instance}}")], steps=[("red", 1)],
            description="Guests whose agent has not published for a minute (the agents publish every 5 s by default)"),
        row("Guest memory"),
        timeseries("Guest $domain: held, targets, committed, static-max", "bytes", [
            q("xenballoon_balloon_current_bytes{" + GUESTS + "}", "{{instance}} {{domain}} held"),
            q("xenballoon_balloon_target_bytes{" + GUESTS + "}", "{{instance}} {{domain}} agent target"),
            q("xenballoon_dom0_target_bytes{" + GUESTS + "}", "{{instance}} {{domain}} dom0 target (ceiling)"),
            q("xenballoon_memory_committed_as_bytes{" + GUESTS + "}", "{{instance}} {{domain}} Committed_AS"),
            q("xenballoon_static_max_bytes{" + GUESTS + "}", "{{instance}} {{domain}} static-max"),
        ], w=8, h=8, repeat="domain",
            description="What the guest holds (balloon current) against what its agent asked for, dom0's target (the ceiling while selfballooning), what it has committed and its static-max"),
        timeseries("Memory given back per host", "bytes", [
            q("sum by (instance) (xenballoon_static_max_bytes{" + GUESTS + "} - xenballoon_balloon_current_bytes{" + GUESTS + "})",
              "{{instance}} given back"),
            q("xenballoon_host_memory_free_bytes{" + EXP + "}", "{{instance}} host free"),
        ], w=8, description="Memory the guests hold below their static-max, and the host's free memory"),
        timeseries("Overcommit ratio per host", "percentunit", [
            q("sum by (instance) (xenballoon_static_max_bytes{" + EXP + "}) / on (instance) xenballoon_host_memory_total_bytes{" + EXP + "}",
              "{{instance}} Σ static-max / host"),
            q("sum by (instance) (xenballoon_balloon_current_bytes{" + EXP + "}) / on (instance) xenballoon_host_memory_total_bytes{" + EXP + "}",
              "{{instance}} Σ held / host"),
        ], w=8),
        timeseries("Held as share of static-max", "percentunit", [
            q("xenballoon_balloon_current_bytes{" + GUESTS + "} / xenballoon_static_max_bytes{" + GUESTS + "}",
              "{{instance}} {{domain}}"),
        ], w=8),
        row("Pressure"),
        timeseries("Swap-in and swap-out", "Bps", [
            q("rate(xenballoon_vmstat_pswpin_total{" + GUESTS + "}[$__rate_interval]) * 4096", "{{domain}} in"),
            q("rate(xenballoon_vmstat_pswpout_total{" + GUESTS + "}[$__rate_interval]) * 4096", "{{domain}} out"),
        ], description="Pages swapped in and out, times the 4 KiB page size"),
        timeseries("Major faults and page-cache refaults", "ops", [
            q("rate(xenballoon_vmstat_pgmajfault_total{" + GUESTS + "}[$__rate_interval])", "{{domain}} major faults"),
            q("rate(xenballoon_vmstat_workingset_refault_file_total{" + GUESTS + "}[$__rate_interval])", "{{domain}} file refaults"),
        ]),
        timeseries("Memory stall (PSI)", "percentunit", [
            q("rate(xenballoon_pressure_memory_waiting_seconds_total{" + GUESTS + "}[$__rate_interval])", "{{domain}} some"),
            q("rate(xenballoon_pressure_memory_stalled_seconds_total{" + GUESTS + "}[$__rate_interval])", "{{domain}} full"),
        ], description="Share of time some (full: all non-idle) tasks stalled on memory, from the PSI total counters"),
        timeseries("OOM kills", "short", [
            q("increase(xenballoon_vmstat_oom_kill_total{" + GUESTS + "}[$__rate_interval])", "{{domain}}"),
        ]),
        bargauge("Top guests by memory stall", "percentunit", [
            q("topk(10, rate(xenballoon_pressure_memory_waiting_seconds_total{" + GUESTS + "}[$__rate_interval]))",
              "{{instance}} {{domain}}", instant=True),
        ], steps=[("orange", 0.05), ("red", 0.2)],
            description="The ten guests whose tasks stalled on memory most over the last rate interval"),
        table("Agent heartbeat age", "s", [
            q("time() - xenballoon_heartbeat_timestamp_seconds{" + GUESTS + "}", "__table", instant=True),
        ], steps=[("orange", 30), ("red", 60)],
            description="Seconds since each guest's agent last published; a guest without an agent has no row (see Guests without an agent)"),
        row("Balancer (dom0 policy)"),
        timeseries("Balancer: need and target per guest", "bytes", [
            q("xenballoon_balancer_need_bytes{" + BAL + ',domain=~"$domain"}', "need {{domain}}"),
            q("xenballoon_balancer_applied_target_bytes{" + BAL + ',domain=~"$domain"}', "target {{domain}}"),
            q("xenballoon_balancer_proposed_target_bytes{" + BAL + ',domain=~"$domain"}', "proposed {{domain}}"),
        ]),
        timeseries("Balancer: host memory", "bytes", [
            q("xenballoon_balancer_host_free_bytes{" + BAL + "}", "{{instance}} host free"),
            q("xenballoon_balancer_available_bytes{" + BAL + "}", "{{instance}} available to guests"),
            q("xenballoon_balancer_unmet_need_bytes{" + BAL + "}", "{{instance}} unmet need"),
            q("xenballoon_balancer_unreclaimable_bytes{" + BAL + "}", "{{instance}} unreclaimable (stuck guests)"),
        ]),
        timeseries("Balancer: decisions by reason", "ops", [
            q("sum by (reason) (rate(xenballoon_balancer_decisions_total{" + BAL + "}[$__rate_interval]))", "{{reason}}"),
            q("sum by (direction) (rate(xenballoon_balancer_target_writes_total{" + BAL + "}[$__rate_interval]))", "targets set {{direction}}"),
        ], min0=True),
        timeseries("Balancer: guests not ok", "short", [
            q("xenballoon_balancer_guest_state{" + BAL + ',state!="ok",domain=~"$domain"} == 1', "{{domain}} {{state}}"),
            q("rate(xenballoon_balancer_target_write_errors_total{" + BAL + "}[$__rate_interval])", "{{instance}} target write errors/s"),
        ]),
    ]
    return dashboard(
        "xenballoon-fleet",
        "xenballoon: fleet",
        "Every Xen host and guest: memory held against targets and needs, what ballooning gave back, pressure, stale agents, the balancer",
        [var_datasource(), EXPORTER_JOB, BALANCER_JOB, INSTANCE, DOMAINS],
        items,
        kinds(items),
    )


# --- Guest detail ------------------------------------------------------------------------------

def guest():
    items = [
        row("Memory"),
        timeseries("Held, targets, floor and ceiling", "bytes", [
            q("xenballoon_balloon_current_bytes{" + ONE_GUEST + "}", "held"),
            q("xenballoon_balloon_target_bytes{" + ONE_GUEST + "}", "agent target"),
            q("xenballoon_balloon_floor_bytes{" + ONE_GUEST + "}", "floor"),
            q("xenballoon_dom0_target_bytes{" + ONE_GUEST + "}", "dom0 target (ceiling)"),
            q("xenballoon_static_max_bytes{" + ONE_GUEST + "}", "static-max"),
            q("xenballoon_memory_committed_as_bytes{" + ONE_GUEST + "}", "Committed_AS"),
        ], w=24, h=9),
        timeseries("Meminfo breakdown", "bytes", [
            q("xenballoon_memory_active_anon_bytes{" + ONE_GUEST + "}", "anon active"),
            q("xenballoon_memory_inactive_anon_bytes{" + ONE_GUEST + "}", "anon inactive"),
            q("xenballoon_memory_active_file_bytes{" + ONE_GUEST + "}", "file active"),
            q("xenballoon_memory_inactive_file_bytes{" + ONE_GUEST + "}", "file inactive"),
            q("xenballoon_memory_slab_reclaimable_bytes{" + ONE_GUEST + "}", "slab reclaimable"),
            q("xenballoon_memory_slab_unreclaimable_bytes{" + ONE_GUEST + "}", "slab unreclaimable"),
            q("xenballoon_memory_mem_free_bytes{" + ONE_GUEST + "}", "free"),
        ], stack=True, description="Stacked: the LRU lists, slab and free memory of /proc/meminfo"),
        timeseries("Target steps by direction", "short", [
            q("increase(xenballoon_adjustments_total{" + AGENT + "}[$__rate_interval])", "{{direction}}"),
            q("xenballoon_selfballoon_enabled{" + ONE_GUEST + "}", "selfballooning (1) or directed (0)"),
        ], description="Balloon target changes the agent wrote (agent's own /metrics) and its mode"),
        row("Why the agent held back"),
        timeseries("Ticks skipped by reason", "short", [
            q("sum by (reason) (increase(xenballoon_ticks_skipped_total{" + AGENT + "}[$__rate_interval])) or sum(0 * xenballoon_xenstore_connected{" + AGENT + "})",
              "{{reason}}"),
        ], description="Policy ticks that wrote no target, by reason (0 while none)"),
        timeseries("Shrinks held by reason", "short", [
            q("sum by (reason) (increase(xenballoon_shrink_held_total{" + AGENT + "}[$__rate_interval])) or sum(0 * xenballoon_xenstore_connected{" + AGENT + "})",
              "{{reason}}"),
        ]),
        timeseries("Pressure signals", "short", [
            q("xenballoon_memory_pressure{" + AGENT + "} or sum(0 * xenballoon_xenstore_connected{" + AGENT + "})", "{{signal}}"),
        ], description="1 while a pressure signal is active (psi, swapin, majfault)"),
        row("Swap, faults, stall"),
        timeseries("Swap", "Bps", [
            q("rate(xenballoon_vmstat_pswpin_total{" + ONE_GUEST + "}[$__rate_interval]) * 4096", "swap-in"),
            q("rate(xenballoon_vmstat_pswpout_total{" + ONE_GUEST + "}[$__rate_interval]) * 4096", "swap-out"),
            q("xenballoon_memory_swap_total_bytes{" + ONE_GUEST + "} - xenballoon_memory_swap_free_bytes{" + ONE_GUEST + "}", "swap used (bytes)"),
        ], w=8),
        timeseries("Faults", "ops", [
            q("rate(xenballoon_vmstat_pgfault_total{" + ONE_GUEST + "}[$__rate_interval])", "faults"),
            q("rate(xenballoon_vmstat_pgmajfault_total{" + ONE_GUEST + "}[$__rate_interval])", "major faults"),
            q("rate(xenballoon_vmstat_workingset_refault_file_total{" + ONE_GUEST + "}[$__rate_interval])", "file refaults"),
        ], w=8),
        timeseries("Memory stall (PSI)", "percentunit", [
            q("rate(xenballoon_pressure_memory_waiting_seconds_total{" + ONE_GUEST + "}[$__rate_interval])", "some (from total)"),
            q("rate(xenballoon_pressure_memory_stalled_seconds_total{" + ONE_GUEST + "}[$__rate_interval])", "full (from total)"),
            q("xenballoon_pressure_memory_some_avg10_ratio{" + ONE_GUEST + "}", "some avg10"),
        ], w=8),
        row("Agent"),
        timeseries("Agent errors", "ops", [
            q("sum by (operation, error) (rate(xenballoon_xenstore_errors_total{" + AGENT + "}[$__rate_interval])) or sum(0 * xenballoon_xenstore_connected{" + AGENT + "})",
              "xenstore {{operation}} {{error}}"),
            q("sum by (error) (rate(xenballoon_balloon_write_errors_total{" + AGENT + "}[$__rate_interval]))", "balloon write {{error}}"),
            q("sum by (source, error) (rate(xenballoon_read_errors_total{" + AGENT + "}[$__rate_interval])) or sum(0 * xenballoon_xenstore_connected{" + AGENT + "})",
              "read {{source}} {{error}}"),
            q("rate(xenballoon_publications_total{" + AGENT + ',result="error"}[$__rate_interval])', "publications failed"),
            q("sum by (key) (rate(xenballoon_override_errors_total{" + AGENT + "}[$__rate_interval])) or sum(0 * xenballoon_xenstore_connected{" + AGENT + "})",
              "override {{key}} refused"),
        ]),
        timeseries("Publication age", "s", [
            q("time() - xenballoon_heartbeat_timestamp_seconds{" + ONE_GUEST + "}", "since heartbeat"),
            q("time() - xenballoon_last_update_timestamp_seconds{" + ONE_GUEST + "}", "since data changed"),
        ], description="From the exporter: the agent's last heartbeat and the last change of its published data"),
    ]
    return dashboard(
        "xenballoon-guest",
        "xenballoon: guest detail",
        "One guest over time: its memory and the agent's decisions, why it held back, swap, faults, stall, the agent's errors",
        [var_datasource(), EXPORTER_JOB, AGENT_JOB, INSTANCE, DOMAIN, UUID],
        items,
        kinds(items),
    )


# --- dom0 daemons ------------------------------------------------------------------------------

def daemons():
    items = [
        row("Exporter"),
        stat("Exporters up", "short", [q('sum(up{job=~"$exporter_job",instance=~"$instance"})', "up")]),
        stat("Exporter xenstore connected", "short", [q(
            "min(xenballoon_exporter_xenstore_connected{" + EXP + "})", "connected")],
            steps=[]),
        stat("Agents up", "short", [q('sum(up{job=~"$agent_job"})', "up")],
             description="Agents scraped directly (job $agent_job; optional)"),
        stat("Balancers up", "short", [q('sum(up{job=~"$balancer_job",instance=~"$instance"})', "up")]),
        stat("Balancer balancing", "short", [q("min(xenballoon_balancer_balancing{" + BAL + "})", "balancing")]),
        stat("Balancer dry run", "short", [q("max(xenballoon_balancer_dry_run{" + BAL + "})", "dry run")]),
        timeseries("Exporter scrape duration", "s", [
            q("xenballoon_exporter_scrape_duration_seconds{" + EXP + "}", "{{instance}} render"),
            q('scrape_duration_seconds{job=~"$exporter_job",instance=~"$instance"}', "{{instance}} scrape"),
        ], w=8),
        timeseries("Exporter: values refused by reason", "ops", [
            q("sum by (instance, reason) (rate(xenballoon_exporter_parse_errors_total{" + EXP + "}[$__rate_interval]))",
              "{{instance}} {{reason}}"),
        ], w=8, description="Guest values the exporter refused (malformed, out of range, too large, unknown)"),
        timeseries("Exporter: xenstore and cache", "short", [
            q("xenballoon_exporter_xenstore_connected{" + EXP + "}", "{{instance}} connected"),
            q("increase(xenballoon_exporter_xenstore_reconnects_total{" + EXP + "}[$__rate_interval])", "{{instance}} reconnects"),
            q("rate(xenballoon_exporter_cache_updates_total{" + EXP + "}[$__rate_interval])", "{{instance}} values re-read/s"),
        ], w=8),
        timeseries("Publication age per guest", "s", [
            q("time() - xenballoon_last_update_timestamp_seconds{" + EXP + "}", "{{instance}} {{domain}}"),
        ], w=12, description="Since each guest's published data last changed (the exporter's cache)"),
        timeseries("Guests seen", "short", [
            q("xenballoon_exporter_guests{" + EXP + "}", "{{instance}} guests"),
            q("xenballoon_exporter_guests_with_agent{" + EXP + "}", "{{instance}} with agent"),
        ], w=12),
        row("Agents"),
        timeseries("Agent tick and publication time (p99)", "s", [
            q("histogram_quantile(0.99, sum by (le, domain) (rate(xenballoon_tick_duration_seconds_bucket{" + AGENTS + "}[$__rate_interval])))",
              "{{domain}} tick"),
            q("histogram_quantile(0.99, sum by (le, domain) (rate(xenballoon_publish_duration_seconds_bucket{" + AGENTS + "}[$__rate_interval])))",
              "{{domain}} publish"),
        ], w=8),
        timeseries("Agent CPU", "percentunit", [
            q("sum by (domain) (rate(xenballoon_cpu_seconds_total{" + AGENTS + "}[$__rate_interval]))", "{{domain}}"),
        ], w=8, description="CPU time the agents spent in ticks and publications, per second"),
        timeseries("Agent publications", "ops", [
            q("sum by (domain, result) (rate(xenballoon_publications_total{" + AGENTS + "}[$__rate_interval]))", "{{domain}} {{result}}"),
        ], w=8),
        timeseries("Agent xenstore", "short", [
            q("xenballoon_xenstore_connected{" + AGENTS + "}", "{{domain}} connected"),
            q("increase(xenballoon_xenstore_reconnects_total{" + AGENTS + "}[$__rate_interval])", "{{domain}} reconnects"),
            q("sum by (domain) (rate(xenballoon_xenstore_errors_total{" + AGENTS + "}[$__rate_interval])) or sum by (domain) (0 * xenballoon_xenstore_connected{" + AGENTS + "})",
              "{{domain}} errors/s"),
        ], w=12),
        table("Agent versions", "short", [
            q("xenballoon_build_info{" + AGENTS + "}", "__table", instant=True),
        ], w=12),
        row("Balancer"),
        timeseries("Balancer step", "s", [
            q("xenballoon_balancer_step_duration_seconds{" + BAL + "}", "{{instance}} step duration"),
            q("time() - xenballoon_balancer_last_step_timestamp_seconds{" + BAL + "}", "{{instance}} since last step"),
        ], w=8),
        timeseries("Balancer writes", "ops", [
            q("sum by (instance, direction) (rate(xenballoon_balancer_target_writes_total{" + BAL + "}[$__rate_interval]))", "{{instance}} {{direction}}"),
            q("rate(xenballoon_balancer_target_write_errors_total{" + BAL + "}[$__rate_interval])", "{{instance}} errors"),
            q("rate(xenballoon_balancer_steps_total{" + BAL + "}[$__rate_interval])", "{{instance}} steps"),
        ], w=8),
        timeseries("Balancer connection", "short", [
            q("xenballoon_balancer_xenstore_connected{" + BAL + "}", "{{instance}} xenstore connected"),
            q("xenballoon_balancer_guests{" + BAL + "}", "{{instance}} guests"),
        ], w=8),
    ]
    return dashboard(
        "xenballoon-dom0",
        "xenballoon: dom0 daemons",
        "The exporter's, the agents' and the balancer's own health: scrapes, xenstore, refused values, publication age, step times",
        [var_datasource(), EXPORTER_JOB, AGENT_JOB, BALANCER_JOB, INSTANCE],
        items,
        kinds(items),
    )


def render(d):
    return json.dumps(d, indent=2, ensure_ascii=False) + "\n"


# --- The same panels as Prometheus console pages -------------------------------------------
#
# config/prometheus/consoles/dashboard-<name>.html: every panel of a dashboard as a graph of
# Prometheus' console library (PromConsole.Graph), for a Prometheus without Grafana (the demo).
# The variables: the jobs at their defaults, Host and Guest from the page's ?instance= and
# ?domain= parameters (all hosts, all guests, or for the guest page the first guest, when
# absent), $__rate_interval as 1m.

CONSOLE_JOBS = {"exporter_job": "xenballoon-exporter", "agent_job": "xenballoond",
                "balancer_job": "xenballoon-balancer"}


def console_text(text):
    for name, value in CONSOLE_JOBS.items():
        text = text.replace("$" + name, value)
    text = text.replace("$__rate_interval", "1m")
    for name in ("instance", "domain", "uuid"):
        text = text.replace("$" + name, "{{ $%s }}" % name)
    return text


def console_legend(legend):
    if legend.startswith("__"):
        return ""
    return re.sub(r"\{\{\s*([a-zA-Z_]+)\s*\}\}", r"[[ \1 ]]", legend)


def console_page(d, one_guest):
    out = ["{{/* Written by dashboards/generate.py from dashboards/%s.json: edit that script. */}}"
           % d["uid"],
           '{{ $instance := reReplaceAll "[^A-Za-z0-9_.:*|-]" "" (or .Params.instance ".*") }}',
           '{{ $domain := reReplaceAll "[^A-Za-z0-9_.:*|-]" "" (or .Params.domain "%s") }}'
           % ("" if one_guest else ".*")]
    if one_guest:
        out.append('{{ if not $domain }}{{ with query "xenballoon_static_max_bytes{job=\'xenballoon-exporter\'}" | sortByLabel "domain" }}'
                   '{{ $domain = (index . 0).Labels.domain }}{{ end }}{{ end }}')
        out.append('{{ $uuid := "" }}{{ with printf "xenballoon_static_max_bytes{job=\'xenballoon-exporter\',domain=\'%s\'}" $domain | query }}'
                   '{{ $uuid = (index . 0).Labels.uuid }}{{ end }}')
    out += ['<!doctype html>', '<html lang="en">', '<head>', '{{ template "prom_console_head" }}',
            "<title>%s</title>" % d["title"], "</head>", "<body>",
            '<nav class="navbar fixed-top navbar-expand-sm navbar-dark bg-dark">',
            '  <a class="navbar-brand" href="{{ pathPrefix }}/consoles/index.html">xenballoon</a>',
            '  <ul class="nav navbar-nav">']
    for name, title in (("dashboard-fleet", "Fleet panels"), ("dashboard-guest", "Guest panels"),
                        ("dashboard-dom0", "dom0 panels"), ("xenballoon-fleet", "Fleet summary")):
        out.append('    <li class="nav-item"><a class="nav-link" href="{{ pathPrefix }}/consoles/%s.html">%s</a></li>'
                   % (name, title))
    out += ["  </ul>", "</nav>", '<div style="height: 56px"></div>',
            '{{ template "prom_content_head" . }}',
            "<h1>%s%s</h1>" % (d["title"], " {{ $domain }}" if one_guest else ""),
            "<p>%s. The Grafana dashboard <code>dashboards/%s.json</code> as console graphs:"
            " host <code>{{ $instance }}</code>, guest <code>{{ $domain }}</code>"
            " (<code>?instance=</code>, <code>?domain=</code>).</p>"
            % (d["description"], d["uid"])]
    n = 0
    for panel in d["panels"]:
        if panel["type"] == "row":
            out.append("<h2>%s</h2>" % panel["title"])
            continue
        n += 1
        unit = panel["fieldConfig"]["defaults"].get("unit", "")
        fmt = "humanize1024" if unit == "bytes" else "humanizeNoSmallPrefix"
        exprs = [console_text(t["expr"]) for t in panel["targets"]]
        names = [console_legend(console_text(t.get("legendFormat", ""))) for t in panel["targets"]]
        out.append("<h3>%s</h3>" % console_text(panel["title"]))
        out.append('<div id="panel%d"></div>' % n)
        out.append("<script>")
        out.append("new PromConsole.Graph({")
        out.append('  node: document.querySelector("#panel%d"),' % n)
        out.append("  expr: [")
        for e in exprs:
            out.append("    %s," % json.dumps(e))
        out.append("  ],")
        if any(names):
            out.append("  name: [%s]," % ", ".join(json.dumps(x or "[[ __name__ ]]") for x in names))
        out.append("  min: 0,")
        out.append("  yUnits: %s," % json.dumps({"bytes": "B", "Bps": "B/s", "s": "s", "ops": "/s",
                                              "percentunit": "(share)"}.get(unit, "")))
        out.append("  yAxisFormatter: PromConsole.NumberFormatter.%s," % fmt)
        out.append("  yHoverFormatter: PromConsole.NumberFormatter.%s," % fmt)
        out.append("  yTitle: %s," % json.dumps(console_text(panel["title"])[:40]))
        out.append("});")
        out.append("</script>")
    out += ['{{ template "prom_content_tail" . }}', '{{ template "tail" }}']
    return "\n".join(out) + "\n"


FILES = {"xenballoon-fleet.json": fleet, "xenballoon-guest.json": guest,
         "xenballoon-dom0.json": daemons}
CONSOLES = {"dashboard-fleet.html": (fleet, False), "dashboard-guest.html": (guest, True),
            "dashboard-dom0.html": (daemons, False)}
CONSOLE_DIR = HERE.parent / "config" / "prometheus" / "consoles"


def main(argv):
    check = argv[1:] == ["--check"]
    if argv[1:] and not check:
        print("usage: generate.py [--check]", file=sys.stderr)
        return 2
    stale = []
    outputs = [(HERE / name, render(make())) for name, make in FILES.items()]
    outputs += [(CONSOLE_DIR / name, console_page(make(), one_guest))
                for name, (make, one_guest) in CONSOLES.items()]
    for path, text in outputs:
        name = path.name
        if check:
            if not path.exists() or path.read_text() != text:
                stale.append(name)
        else:
            path.write_text(text)
    if stale:
        print("dashboards differ from dashboards/generate.py (run it and commit): " + ", ".join(stale),
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
