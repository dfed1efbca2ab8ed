#!/usr/bin/env bash
# Builds the quick start's binary (Tools/build.sh) and the native-flag reference build
# (-target-cpu native -DBLAZE_FMA, in .build-native-fma), then runs them side by side on
# `blazepose bench` for the detector, lite and full (Tools/bench_fast_default.py; arguments go there).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
quick=$(bash "$root/Tools/build.sh")
swift build -c release --package-path "$root" --scratch-path "$root/.build-native-fma" \
    -Xswiftc -target-cpu -Xswiftc native -Xswiftc -DBLAZE_FMA >&2
python3 "$root/Tools/bench_fast_default.py" "$quick" "$root/.build-native-fma/release/blazepose" "$@"
