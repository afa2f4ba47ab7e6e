#!/usr/bin/env bash
# Installs the Debian 12 packages the project needs, only those missing (idempotent).
# usage: scripts/install-deps.sh [build|test|demo|bench]...   (default: build)
set -euo pipefail

build=(cmake ninja-build g++ pkg-config prometheus-cpp-dev libcivetweb-dev libyaml-cpp-dev
       libxen-dev catch2 xenstore-utils nlohmann-json3-dev libssl-dev libcrypt-dev openssl)
# The dashboard checks (tests/dashboards/): python3 runs them, nodejs and npm the strict schema
# check (npm ci of its pinned packages), chromium the headless screenshots.
# The packaging checks (tests/packaging/): a Debian root to install the .deb into, lintian, rpm
# (rpmbuild for CPack's .rpm) and rpmlint, help2man for the man pages. clang and its runtimes
# (libFuzzer, the sanitizers): the sanitizer tree is a clang tree that also builds the fuzz targets.
test=(prometheus prometheus-alertmanager curl python3 nodejs chromium
      debootstrap lintian rpm rpmlint help2man clang libclang-rt-14-dev)
demo=(prometheus prometheus-alertmanager curl)
bench=(gnuplot-nox)  # the benchmarks' PNG plots

want=()
for set in "${@:-build}"; do
  case "$set" in
    build) want+=("${build[@]}") ;;
    test)
      want+=("${build[@]}" "${test[@]}")
      # Debian's nodejs comes without npm (a package of its own); a nodejs that brings its own
      # npm (NodeSource's) conflicts with Debian's npm package, so ask for it only when missing.
      command -v npm >/dev/null || want+=(npm)
      ;;
    demo) want+=("${build[@]}" "${demo[@]}") ;;
    bench) want+=("${build[@]}" "${test[@]}" "${bench[@]}") ;;
    *) echo "install-deps: unknown set '$set' (build, test, demo, bench)" >&2; exit 2 ;;
  esac
done

missing=()
for pkg in "${want[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [[ $status == "install ok installed" ]] || missing+=("$pkg")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -ne 0 ]]; then
  echo "install-deps: missing packages: ${missing[*]}; run as root or install them" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
if ! apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "${missing[@]}"; then
  apt-get -o DPkg::Lock::Timeout=600 update -q
  apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "${missing[@]}"
fi
