#!/usr/bin/env bash
# Side-by-side wall time: MediaPipe 0.10.14 (Tools/mediapipe/time_static.py) and our
# `blazepose detect` on the same image, lite and full, no segmentation on either side.
#
#   bash Tools/time_detect.sh [IMAGE] [RUNS]        (default Samples/astronaut.png, 30 runs)
#
# Our binary is built with `swift build -c release -Xswiftc -target-cpu -Xswiftc native -Xswiftc -DBLAZE_FMA`
# into .build-native (pass NATIVE=0 to time the plain `swift build -c release` binary instead).
# The machine is shared: numbers move with load, so both sides run back to back per model.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
image=${1:-$root/Samples/astronaut.png}
runs=${2:-30}
py=$(bash "$root/Tools/mediapipe/venv.sh" | tail -1)   # creates or reuses the venv
[ -x "$py" ] || { echo "time_detect: $py missing; run bash Tools/mediapipe/venv.sh" >&2; exit 2; }
cd "$root"
if [ "${NATIVE:-1}" = 1 ]; then
    swift build -c release --scratch-path .build-native -Xswiftc -target-cpu -Xswiftc native -Xswiftc -DBLAZE_FMA >/dev/null
    bin=.build-native/release/blazepose
else
    swift build -c release >/dev/null
    bin=.build/release/blazepose
fi
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)   cores: $(nproc)   image: $image   runs: $runs"
for model in lite full; do
    echo "--- $model: MediaPipe (time_static.py) ---"
    "$py" Tools/mediapipe/time_static.py "$image" --model "$model" --runs "$runs" 2>/dev/null
    echo "--- $model: blazepose detect ($bin) ---"
    start=$(date +%s%N)
    "$bin" detect "$image" --model "$model" --weights weights --repeat "$runs"
    end=$(date +%s%N)
    echo "whole process (load models + decode + 1 + $runs runs): $(( (end - start) / 1000000 )) ms"
    start=$(date +%s%N)
    "$bin" detect "$image" --model "$model" --weights weights >/dev/null
    end=$(date +%s%N)
    echo "one-shot process (load models + decode + 1 run, what a CLI user waits): $(( (end - start) / 1000000 )) ms"
done
