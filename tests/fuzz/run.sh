#!/usr/bin/env bash
# Builds every libFuzzer target with clang (build-fuzz/) and runs each for SECONDS seconds on a copy
# of its checked-in seed corpus. Exits non-zero if a target fails to build or finds a crash.
#   tests/fuzz/run.sh [SECONDS]      (default 30)
set -euo pipefail

seconds="${1:-30}"
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${ODP_FUZZ_BUILD_DIR:-$repo/build-fuzz}"
corpus_src="$repo/tests/fuzz/corpus"

CC=clang CXX=clang++ cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DODP_FUZZ=ON -DODP_BENCHMARKS=OFF >/dev/null
targets=$(sed -n '/^set(ODP_FUZZ_TARGETS/,/)/p' "$repo/tests/fuzz/CMakeLists.txt" | tr -d '()' |
  grep -v ODP_FUZZ_TARGETS | xargs)
ninja -C "$build" $(for t in $targets; do printf 'fuzz_%s ' "$t"; done)

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
failed=0
for t in $targets; do
  mkdir -p "$work/$t" "$work/artifacts/$t"
  seeds=()
  [[ -d "$corpus_src/$t" ]] && seeds=("$corpus_src/$t")
  echo "== fuzz_$t for ${seconds}s"
  if ! "$build/fuzz/fuzz_$t" -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
      -artifact_prefix="$work/artifacts/$t/" -print_final_stats=1 "$work/$t" "${seeds[@]}" \
      >"$work/$t.log" 2>&1; then
    echo "!! fuzz_$t FAILED; log tail:"
    tail -n 40 "$work/$t.log"
    mkdir -p "$build/fuzz-artifacts/$t"
    cp -r "$work/artifacts/$t/." "$build/fuzz-artifacts/$t/" 2>/dev/null || true
    echo "   crash inputs copied to $build/fuzz-artifacts/$t/"
    failed=1
  else
    grep -E 'stat::number_of_executed_units|Done [0-9]+ runs' "$work/$t.log" | tail -n 1 || true
  fi
done
exit "$failed"
