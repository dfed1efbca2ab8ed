#!/bin/bash
# Model-load time of two builds, side by side in alternating processes (A, B, A, B, ...).
#
# usage: bash Tools/load_ab.sh BIN_A BIN_B [processes per side, default 10]
#   IDLE=3   sleep this many seconds before each process: a one-shot run, whose fresh memory the
#            host of a VM may have taken back (see HugePages in BlazeSupport); default 0 (a loop).
#
# Prints, per side: `bench --json --iterations 20 --threads 1` load + init of the detector and the
# full landmark model (Tools/bench_summary.sh's settings) with the page size each process settled
# on, and `detect --model full`'s model load (both models at once) with its peak RSS.
set -euo pipefail
cd "$(dirname "$0")/.."
a=${1:?usage: load_ab.sh BIN_A BIN_B [N]}; b=${2:?usage: load_ab.sh BIN_A BIN_B [N]}; n=${3:-10}
idle=${IDLE:-0}
for bin in "$a" "$b"; do [[ -x $bin ]] || { echo "not an executable: $bin" >&2; exit 2; }; done
for f in weights/pose_detection.tflite weights/pose_landmark_full.tflite Samples/astronaut.png; do
    [[ -f $f ]] || { echo "missing $f (bash Tools/setup.sh fetches the weights)" >&2; exit 2; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "# $n alternating processes per side, ${idle}s idle before each; $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"

for m in pose_detection pose_landmark_full; do
    for ((i = 1; i <= n; i++)); do
        for side in A B; do
            bin=$a; [[ $side == B ]] && bin=$b
            sleep "$idle"
            echo "$side $("$bin" bench "weights/$m.tflite" --json --iterations 20 --threads 1)"
        done
    done > "$work/$m.txt"
    python3 - "$work/$m.txt" "$m" <<'EOF'
import json, statistics, sys
rows = {"A": [], "B": []}
for line in open(sys.argv[1]):
    side, text = line.split(" ", 1)
    rows[side].append(json.loads(text))
for side in "AB":
    r = rows[side]
    load = [x["load_ms"] + x["init_ms"] for x in r]
    pages = ",".join(x.get("memory_pages", "?") for x in r)
    print("%s %s: bench load+init median %.1f ms (min %.1f, max %.1f); pages %s"
          % (sys.argv[2], side, statistics.median(load), min(load), max(load), pages))
EOF
done

for ((i = 1; i <= n; i++)); do
    for side in A B; do
        bin=$a; [[ $side == B ]] && bin=$b
        sleep "$idle"
        ms=$(/usr/bin/time -v "$bin" detect Samples/astronaut.png --model full --json "$work/out.$side.json" \
             2> "$work/time.$side.txt" | grep -o 'load [0-9.]* ms' | awk '{print $2}')
        rss=$(awk -F': ' '/Maximum resident/ {print $2}' "$work/time.$side.txt")
        echo "$side ${ms:-nan} ${rss:-0}"
    done
done | python3 -c '
import statistics, sys
rows = {"A": [], "B": []}
for line in sys.stdin:
    side, ms, rss = line.split()
    rows[side].append((float(ms), int(rss) / 1024))
for side in "AB":
    r = rows[side]
    print("detect --model full %s: model load median %.1f ms (min %.1f, max %.1f); peak RSS median %.1f MB"
          % (side, statistics.median(x[0] for x in r), min(x[0] for x in r), max(x[0] for x in r), statistics.median(x[1] for x in r)))'
