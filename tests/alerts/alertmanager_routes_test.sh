#!/bin/sh
# The example Alertmanager configuration routes every alert of the rules file by its severity:
# critical to xenballoon-pager, warning to xenballoon-team, info to xenballoon-digest, anything
# else to the default (xenballoon-team). Each case is `amtool config routes test
# --verify.receivers`, which exits non-zero when the receiver differs; a wrong expectation is
# also tried, to show that a mismatch does fail.
# usage: alertmanager_routes_test.sh AMTOOL ALERTMANAGER_YML RULES_YML
set -u
amtool=$1 config=$2 rules=$3
failures=0 cases=0

expect() {
  receiver=$1
  shift
  cases=$((cases + 1))
  if got=$("$amtool" config routes test --config.file="$config" --verify.receivers="$receiver" \
      "$@" 2>/dev/null); then
    echo "ok: $* -> $receiver"
  else
    echo "FAIL: $* -> $got, expected $receiver"
    failures=$((failures + 1))
  fi
}

receiver_for() {
  case $1 in
    critical) echo xenballoon-pager ;;
    warning) echo xenballoon-team ;;
    info) echo xenballoon-digest ;;
    *) echo "unknown severity $1" >&2; echo none ;;
  esac
}

# Every alert of the rules file, with the labels a guest alert carries.
alerts=$(awk '/- alert: /{name=$3} /severity: /{if (name != "") print name, $2; name=""}' "$rules")
[ -n "$alerts" ] || { echo "FAIL: no alerts found in $rules"; exit 1; }
echo "$alerts" | {
  n=0
  while read -r name severity; do
    n=$((n + 1))
    expect "$(receiver_for "$severity")" alertname="$name" severity="$severity" \
      instance=xen-host-1 job=xenballoon-exporter domain=web domid=3
  done
  echo "$n alerts of the rules file routed"
  [ "$n" -ge 19 ] || { echo "FAIL: expected at least 19 alerts"; exit 1; }
  exit $failures
} || failures=$((failures + 1))

# No severity, or one nobody routes: the default receiver.
expect xenballoon-team alertname=SomethingElse instance=xen-host-1
expect xenballoon-team alertname=SomethingElse severity=page
# A host-wide alert (no domain) of each kind.
expect xenballoon-pager alertname=XenballoonExporterDown severity=critical job=xenballoon-exporter
expect xenballoon-team alertname=XenHostFreeMemoryLow severity=warning instance=xen-host-1

# The check itself must be able to fail.
if "$amtool" config routes test --config.file="$config" --verify.receivers=xenballoon-pager \
    alertname=XenGuestSwapping severity=warning >/dev/null 2>&1; then
  echo "FAIL: amtool accepted a wrong receiver"
  failures=$((failures + 1))
fi

[ "$failures" -eq 0 ] && echo "all routes as expected" || echo "$failures failed"
[ "$failures" -eq 0 ]
