#!/usr/bin/env bash
# Side-by-side wall time: MediaPipe 0.10.14 (Tools/mediapipe/time_static.py) and our
# `blazepose detect --repeat` on the same image, lite and full, no segmentation on either side.
#
#   bash Tools/time_detect.sh [IMAGE] [RUNS]        (default Samples/astronaut.png, 30 runs)
#   bash Tools/time_detect.sh 810x1080 [RUNS]       (Samples/astronaut.png scaled to 810×810 in an
#                                                   810×1080 grey frame, made in a temporary folder)
#   ROUNDS=3 THREADS=0 NATIVE=1 bash Tools/time_detect.sh ...
#
# Our binary is the quick start's fast engine (`Tools/build.sh`, .build-native); NATIVE=0 times the
# plain `swift build -c release` binary instead. THREADS sets our --threads (0: its default).
# The machine is shared, so the two sides alternate: ROUNDS rounds (default 3), each running
# MediaPipe then ours for one model; per side the median of the rounds' warm medians is printed
# with the ratio MediaPipe ÷ ours (> 1: ours is faster).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
image=${1:-$root/Samples/astronaut.png}
runs=${2:-30}
rounds=${ROUNDS:-3}
threads=${THREADS:-0}
py=$(bash "$root/Tools/mediapipe/venv.sh" | tail -1)   # creates or reuses the venv
[ -x "$py" ] || { echo "time_detect: $py missing; run bash Tools/mediapipe/venv.sh" >&2; exit 2; }
cd "$root"
if [ "$image" = 810x1080 ]; then
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    image=$tmp/astronaut_810x1080.png
    "$py" -c '
import sys
import cv2
import numpy as np
src = cv2.imread(sys.argv[1])
frame = np.full((1080, 810, 3), 40, np.uint8)
frame[135:945] = cv2.resize(src, (810, 810), interpolation=cv2.INTER_CUBIC)
cv2.imwrite(sys.argv[2], frame)' "$root/Samples/astronaut.png" "$image"
fi
if [ "${NATIVE:-1}" = 1 ]; then
    bin=$(bash "$root/Tools/build.sh" 2>/dev/null | tail -1)
else
    swift build -c release >/dev/null
    bin=.build/release/blazepose
fi
[ -x "$bin" ] || { echo "time_detect: no binary at $bin" >&2; exit 2; }
ours_threads=()
[ "$threads" != 0 ] && ours_threads=(--threads "$threads")
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)   cores: $(nproc)   image: $image   runs: $runs   rounds: $rounds"
median() { sort -g | awk '{a[NR]=$1} END {if (NR % 2) print a[(NR+1)/2]; else printf "%.3f\n", (a[NR/2]+a[NR/2+1])/2}'; }
for model in lite full; do
    mp_ms=(); our_ms=()
    for ((r = 1; r <= rounds; r++)); do
        out=$("$py" Tools/mediapipe/time_static.py "$image" --model "$model" --runs "$runs" 2>/dev/null)
        [ "$r" = 1 ] && echo "--- $model, round 1: MediaPipe ---" && echo "$out"
        m=$(echo "$out" | sed -n 's/^warm median \([0-9.]*\) ms.*/\1/p')
        [ -n "$m" ] || { echo "time_detect: no warm median from time_static.py" >&2; echo "$out" >&2; exit 1; }
        mp_ms+=("$m")
        out=$("$bin" detect "$image" --model "$model" --weights weights --repeat "$runs" "${ours_threads[@]}" 2>&1)
        [ "$r" = 1 ] && echo "--- $model, round 1: blazepose detect ($bin) ---" && echo "$out"
        o=$(echo "$out" | sed -n 's/^warm pipeline .* median \([0-9.]*\) ms.*/\1/p')
        [ -n "$o" ] || { echo "time_detect: no warm median from blazepose detect --repeat" >&2; echo "$out" >&2; exit 1; }
        our_ms+=("$o")
        echo "round $r: $model MediaPipe warm median $m ms, ours $o ms"
    done
    mp=$(printf '%s\n' "${mp_ms[@]}" | median)
    ours=$(printf '%s\n' "${our_ms[@]}" | median)
    echo "=== $model: MediaPipe $mp ms, ours $ours ms (median of $rounds rounds' warm medians): MediaPipe / ours = $(awk -v a="$mp" -v b="$ours" 'BEGIN {printf "%.2f", a / b}')x"
    start=$(date +%s%N)
    "$bin" detect "$image" --model "$model" --weights weights "${ours_threads[@]}" >/dev/null
    end=$(date +%s%N)
    echo "one-shot process (load models + decode + 1 run, what a CLI user waits): $(( (end - start) / 1000000 )) ms"
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
