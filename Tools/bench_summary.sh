#!/usr/bin/env bash
# Every speed, load and memory figure of the engine in one run, each side by side with its
# reference where there is one (alternating rounds inside each tool):
#   1. models vs LiteRT + XNNPACK, 1 and 2 threads (Tools/litert/bench_side_by_side.py);
#   2. load + init and first run vs warm median, detector and full, RUNS processes each (bench --json);
#   3. peak RSS (/usr/bin/time -v) of `detect --model full` and of `track --model full` on a 640×480 Y4M;
#   4. the detect pipeline vs MediaPipe (Tools/time_detect.sh) and track vs MediaPipe video mode
#      (Tools/mediapipe/video_throughput.py).
#
#   bash Tools/bench_summary.sh [BINARY] [IMAGE]
#   RUNS=5 SKIP=4 EXTRA="--sparse" bash Tools/bench_summary.sh ...   (SKIP: comma list of sections to skip)
#
# BINARY defaults to the quick start's fast engine (Tools/build.sh); IMAGE (for section 4) to
# `810x1080`, the detect bar's image (Samples/astronaut.png in an 810×1080 frame, see
# time_detect.sh; give a path to time another image). EXTRA is
# passed to our `bench` in sections 1 and 2. Needs both venvs
# (Tools/litert/venv.sh, Tools/mediapipe/venv.sh) and the weights. Check `uptime` first: the
# figures are only as quiet as the machine.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bin=${1:-}
image=${2:-810x1080}
runs=${RUNS:-5}
skip=",${SKIP:-},"
extra=${EXTRA:-}
if [ -z "$bin" ]; then bin=$(bash Tools/build.sh 2>/dev/null | tail -1); fi
[ -x "$bin" ] || { echo "bench_summary: no binary at $bin" >&2; exit 2; }
litert=$(bash Tools/litert/venv.sh | tail -1)
mediapipe=$(bash Tools/mediapipe/venv.sh | tail -1)
section() { echo; echo "=== $1 (load average $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%H:%M:%S) UTC)"; }
echo "binary: $bin"
"$bin" doctor 2>/dev/null | grep -iE "simd|fma|openblas|core" || true
lscpu | grep -E "^Model name|^CPU\(s\)" || true

if [[ $skip != *,1,* ]]; then
    section "1. models vs LiteRT + XNNPACK"
    "$litert" Tools/litert/bench_side_by_side.py --binary "$bin" --models detector,lite,full --threads 1,2 \
        --rounds 5 --iterations 50 --cli-input-flag=--input ${extra:+--cli-args="$extra"}
fi

if [[ $skip != *,2,* ]]; then
    section "2. load + init, first run vs warm ($runs processes per model, bench --json --iterations 20)"
    for m in pose_detection pose_landmark_full; do
        # One untimed load first, so the packed-weight cache holds this model (EXTRA=--no-weight-cache
        # times loads that pack).
        "$bin" bench "weights/$m.tflite" --json --iterations 1 --threads 1 $extra >/dev/null
        for ((r = 1; r <= runs; r++)); do
            "$bin" bench "weights/$m.tflite" --json --iterations 20 --threads 1 $extra
        done | python3 -c '
import json, statistics, sys
rows = [json.loads(line) for line in sys.stdin if line.strip()]
load = [r["load_ms"] + r["init_ms"] for r in rows]
first = [r["first_run_ms"] / r["median_ms"] for r in rows]
rss = max(r["peak_rss_mb"] for r in rows)
huge = sum(1 for r in rows if r.get("memory_pages") == "2MiB")
hits = sum(1 for r in rows if r.get("weight_cache") == "hit")
print("%s: load+init median %.1f ms (min %.1f, max %.1f); first run / warm median %.2fx (min %.2f, max %.2f); peak RSS %.1f MB; 2 MiB pages in %d of %d processes; packed-weight cache hits in %d"
      % (rows[0]["model"], statistics.median(load), min(load), max(load), statistics.median(first), min(first), max(first), rss, huge, len(rows), hits))'
    done
fi

if [[ $skip != *,3,* ]]; then
    section "3. peak RSS (/usr/bin/time -v)"
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    /usr/bin/time -v "$bin" detect Samples/astronaut.png --model full --json "$work/o.json" 2> "$work/time.txt" >/dev/null
    echo "detect Samples/astronaut.png --model full: $(awk -F': ' '/Maximum resident/ {printf "%.1f MB", $2 / 1024}' "$work/time.txt")"
    "$mediapipe" Tools/outputs/make_sequence.py "$work/in.y4m" 120 2>/dev/null
    /usr/bin/time -v "$bin" track "$work/in.y4m" --model full --jsonl "$work/o.jsonl" 2> "$work/time.txt" >/dev/null
    echo "track 640x480 Y4M (120 frames) --model full: $(awk -F': ' '/Maximum resident/ {printf "%.1f MB", $2 / 1024}' "$work/time.txt")"
fi

if [[ $skip != *,4,* ]]; then
    section "4. pipelines vs MediaPipe"
    bash Tools/time_detect.sh "$image" 30 | grep -E "^(===|round|load)"
    "$mediapipe" Tools/mediapipe/video_throughput.py --ours "$bin" --repeats 5 2>/dev/null | grep -vE "^(W0000|INFO|WARNING)"
fi
