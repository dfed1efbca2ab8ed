#!/usr/bin/env bash
# Builds the fast `blazepose` (release, tuned for this machine's CPU) and prints the binary's path
# on stdout (the build's own output goes to stderr), so the quick start can run it directly:
#
#   "$(bash Tools/build.sh)" detect Samples/astronaut.png
#
# The one flag set: -Xswiftc -target-cpu -Xswiftc native. It lets SIMD8/16<Float> use AVX2/AVX-512,
# and the GEMM kernel's fused multiply-add follows from it (Sources/CBlazeTarget/target.h reads
# __FMA__ through the Clang importer, which gets swiftc's -target-cpu); no -DBLAZE_FMA needed.
#
# Also --static-swift-stdlib (a link option): the Swift runtime and Foundation are linked into the
# binary, so it runs without the toolchain's /opt/swift libraries (it needs only Debian's
# libopenblas, libpng and libturbojpeg) and starts faster: `blazepose --version` 22 → 15 ms and a
# one-shot `detect --model full` 97 → 88 ms on the 2-vCPU Zen 3 VM (README, "Start-up").
# XCTest has no static form, so with --build-tests the build is dynamic and goes to
# .build-native-tests (a switch of link mode in one scratch path rebuilds every module).
# Extra arguments are passed to `swift build` (e.g. --product blazepose).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
scratch="$root/.build-native" link=(--static-swift-stdlib)
for arg in "$@"; do
    if [ "$arg" = --build-tests ]; then scratch="$root/.build-native-tests" link=(); fi
done
swift build -c release --package-path "$root" --scratch-path "$scratch" \
    -Xswiftc -target-cpu -Xswiftc native "${link[@]}" "$@" >&2
echo "$scratch/release/blazepose"
