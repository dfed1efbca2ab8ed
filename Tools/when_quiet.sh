#!/usr/bin/env bash
# Runs a command once the machine is quiet enough to benchmark, e.g. Tools/bench_summary.sh.
#
#   bash Tools/when_quiet.sh [options] -- COMMAND [ARGS...]
#
#   --binary B      the blazepose binary that probes (default: .build-native/release/blazepose)
#   --ratio R       quiet when each probe's median is within R of the lowest minimum seen at its
#                   thread count over all probes so far (default 1.08)
#   --interval S    seconds between probes (default 60)
#   --timeout S     give up after S seconds, status 3 (default 0: never)
#   --pause-file F  while F exists, do not probe (e.g. during a build); default: none
#
# A probe is `bench weights/pose_detection.tflite --iterations 60` at 1 and 2 threads (~1 s). Its
# median against its own minimum is not enough: on a shared host the machine can be slow for
# seconds at a time and steady while slow. So the reference is the lowest minimum of every probe
# of this run (the first probe can start COMMAND only if its medians are within R of its minima).
# Each probe prints one line to stderr. COMMAND runs once; its status is this script's status.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bin=.build-native/release/blazepose ratio=1.08 interval=60 timeout=0 pause=""
while [ $# -gt 0 ]; do
    case "$1" in
        --binary) bin=${2:?--binary needs a path}; shift 2 ;;
        --ratio) ratio=${2:?--ratio needs a number}; shift 2 ;;
        --interval) interval=${2:?--interval needs seconds}; shift 2 ;;
        --timeout) timeout=${2:?--timeout needs seconds}; shift 2 ;;
        --pause-file) pause=${2:?--pause-file needs a path}; shift 2 ;;
        --) shift; break ;;
        *) echo "when_quiet: unknown option '$1' (see the header of $0)" >&2; exit 2 ;;
    esac
done
[ $# -gt 0 ] || { echo "when_quiet: no command given after --" >&2; exit 2; }
[ -x "$bin" ] || { echo "when_quiet: no binary at $bin (bash Tools/build.sh)" >&2; exit 2; }
for v in "$ratio" "$interval" "$timeout"; do
    [[ $v =~ ^[0-9]+([.][0-9]+)?$ ]] || { echo "when_quiet: '$v' is not a non-negative number" >&2; exit 2; }
done
model=weights/pose_detection.tflite
[ -f "$model" ] || { echo "when_quiet: $model is missing (bash Tools/setup.sh)" >&2; exit 2; }

start=$(date +%s) best=("" "" "")   # best[t]: the lowest minimum seen at t threads
while :; do
    if [ "$timeout" != 0 ] && [ $(( $(date +%s) - start )) -ge "${timeout%.*}" ]; then
        echo "when_quiet: no quiet probe within ${timeout} s; not running: $*" >&2
        exit 3
    fi
    if [ -n "$pause" ] && [ -e "$pause" ]; then sleep 10; continue; fi
    line="" quiet=1
    for t in 1 2; do
        out=$("$bin" bench "$model" --threads $t --iterations 60 --json) || { echo "when_quiet: bench failed" >&2; exit 2; }
        median=$(printf '%s' "$out" | grep -oE '"median_ms":[0-9.eE+-]+' | head -1 | cut -d: -f2 || true)
        min=$(printf '%s' "$out" | grep -oE '"min_ms":[0-9.eE+-]+' | head -1 | cut -d: -f2 || true)
        [ -n "${median:-}" ] && [ -n "${min:-}" ] || { echo "when_quiet: no median_ms/min_ms in bench --json" >&2; exit 2; }
        best[t]=$(awk -v a="$min" -v b="${best[t]}" 'BEGIN { print (b == "" || a < b) ? a : b }')
        ok=$(awk -v m="$median" -v b="${best[t]}" -v r="$ratio" 'BEGIN { print (m <= r * b) ? 1 : 0 }')
        [ "$ok" = 1 ] || quiet=0
        line="$line  $(awk -v t=$t -v m="$median" -v b="${best[t]}" 'BEGIN { printf "%dT median %.2f ms (lowest min %.2f)", t, m, b }')"
    done
    echo "when_quiet: $(date -u +%H:%M:%S) UTC$line: $([ $quiet = 1 ] && echo quiet || echo busy)" >&2
    if [ $quiet = 1 ]; then
        exec "$@"
    fi
    sleep "$interval"
done
