#!/usr/bin/env bash
# Long libFuzzer runs of the targets of tests/fuzz/ (docs/fuzzing.md):
#   scripts/fuzz.sh [--minutes M | --seconds S] [--jobs J] [target...]
# Builds the fuzz targets in a clang tree (FUZZ_BUILD_DIR, default build-fuzz/; configured only
# when it does not exist yet), copies each target's seeds (tests/fixtures/fuzz/<target>/) into a
# working corpus outside the repository (FUZZ_WORK_DIR, default $TMPDIR/xenballoon-fuzz/<target>/),
# runs every target for M minutes (default 10) or S seconds, J at a time (default 1), under nice -n 10, and
# prints per target: execs, execs/s, coverage (libFuzzer's cov: edges), corpus size and the crash,
# leak, timeout and out-of-memory files. New crash and leak files are minimised (-minimize_crash,
# two minutes at most) and the minimised inputs listed. Exits 1 when any target found something.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=600
jobs=1
targets=()
while (($#)); do
  case "$1" in
    --minutes) seconds=$(($2 * 60)); shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    -h | --help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
if ((${#targets[@]} == 0)); then
  for source in tests/fuzz/*_fuzz.cpp; do
    name=$(basename "$source" _fuzz.cpp)
    targets+=("$name")
  done
fi
for target in "${targets[@]}"; do
  if [[ ! -f tests/fuzz/${target}_fuzz.cpp ]]; then
    echo "fuzz.sh: no target $target (tests/fuzz/${target}_fuzz.cpp)" >&2
    exit 2
  fi
done

build=${FUZZ_BUILD_DIR:-build-fuzz}
work=${FUZZ_WORK_DIR:-${TMPDIR:-/tmp}/xenballoon-fuzz}
if [[ ! -f $build/CMakeCache.txt ]]; then
  CC=clang CXX=clang++ cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O2 -g1" -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1" \
    -DXENBALLOON_FUZZ=ON -DXENBALLOON_BENCHMARKS=OFF >/dev/null
fi
cmake --build "$build" -j "$(nproc)" --target "${targets[@]/%/_fuzz}"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

findings() {  # the artifact files of one target, one a line
  find "$1" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' \
    -o -name 'oom-*' \) ! -name '*.min' ! -name '*.minimize.log' | sort
}

run_one() {
  local target=$1 dir=$work/$1
  local binary=$build/tests/fuzz/${target}_fuzz
  mkdir -p "$dir/corpus" "$dir/artifacts"
  cp -n tests/fixtures/fuzz/"$target"/* "$dir/corpus/" 2>/dev/null || true
  findings "$dir/artifacts" >"$dir/known"
  local dict=()
  [[ -f tests/fuzz/$target.dict ]] && dict=(-dict="tests/fuzz/$target.dict")
  local start=$SECONDS
  nice -n 10 "$binary" -max_total_time="$seconds" -timeout=10 -detect_leaks=1 \
    -print_final_stats=1 -artifact_prefix="$dir/artifacts/" "${dict[@]}" "$dir/corpus" \
    >"$dir/log" 2>&1 || true
  echo $((SECONDS - start)) >"$dir/seconds"
  # Minimise what this run found (libFuzzer stops at the first one): crashes and leaks, for two
  # minutes at most. A timeout or out-of-memory input is kept as it is: minimising one runs it
  # again and again to its limit.
  local found
  while read -r found; do
    grep -qxF "$found" "$dir/known" && continue
    [[ $(basename "$found") == crash-* || $(basename "$found") == leak-* ]] || continue
    nice -n 10 "$binary" -minimize_crash=1 -runs=20000 -max_total_time=120 -timeout=10 \
      -exact_artifact_path="$found.min" "$found" >"$found.minimize.log" 2>&1 || true
  done < <(findings "$dir/artifacts")
}

report() {
  local target=$1 dir=$work/$1
  local execs rate cov corpus seconds
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$dir/log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$dir/log" | tail -1 | cut -d' ' -f2)
  corpus=$(find "$dir/corpus" -type f | wc -l)
  seconds=$(cat "$dir/seconds")
  printf '%-16s %6s s %12s execs %8s execs/s %7s edges %7s inputs\n' "$target" "$seconds" \
    "${execs:-?}" "${rate:-?}" "${cov:-?}" "$corpus"
  local found new=0
  while read -r found; do
    [[ -z $found ]] && continue
    grep -qxF "$found" "$dir/known" || new=1
    echo "  finding: $found$([[ -f $found.min ]] && echo " (minimised: $found.min)")"
  done < <(findings "$dir/artifacts")
  ((new == 0))
}

running=0
for target in "${targets[@]}"; do
  while ((running >= jobs)); do
    wait -n || true
    running=$((running - 1))
  done
  echo "== $target: $seconds s, log in $work/$target/log =="
  run_one "$target" &
  running=$((running + 1))
done
wait

rc=0
echo "== results ($seconds s each, corpora in $work) =="
for target in "${targets[@]}"; do
  report "$target" || rc=1
done
exit $rc
