#!/usr/bin/env bash
# Builds the fast `blazepose` (release, tuned for this machine's CPU) and prints the binary's path
# on stdout (the build's own output goes to stderr), so the quick start can run it directly:
#
#   "$(bash Tools/build.sh)" detect Samples/astronaut.png
#
# The one flag set: -Xswiftc -target-cpu -Xswiftc native. It lets SIMD8/16<Float> use AVX2/AVX-512,
# and the GEMM kernel's fused multiply-add follows from it (Sources/CBlazeTarget/target.h reads
# __FMA__ through the Clang importer, which gets swiftc's -target-cpu); no -DBLAZE_FMA needed.
# Extra arguments are passed to `swift build` (e.g. --product blazepose).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
scratch="$root/.build-native"
swift build -c release --package-path "$root" --scratch-path "$scratch" \
    -Xswiftc -target-cpu -Xswiftc native "$@" >&2
echo "$scratch/release/blazepose"
