#!/usr/bin/env bash
# libFuzzer + AddressSanitizer on image decoding (Tools/fuzz/FuzzJPEG.swift): JPEG marker scan,
# EXIF orientation parsing (JPEG APP1, PNG eXIf), TurboJPEG decoding, orientation transforms, PNG
# and single-frame Y4M dispatch. Seeds: the small JPEG/PNG cases of Tests/ImageTests/Fixtures/jpeg
# (every orientation, malformed EXIF, bad files) and the PNG decoder fixtures.
# libturbojpeg and libpng are the system's (not instrumented): coverage guides the Swift side.
# Usage: bash Tools/fuzz/run-jpeg.sh [SECONDS]     Output: Tools/fuzz/out-jpeg/ (git-ignored)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
seconds=${1:-600}
out="$root/Tools/fuzz/out-jpeg"
mkdir -p "$out/corpus" "$out/crashes"
swiftc=${SWIFTC:-swiftc}
src="$root/Sources/PoseImage"

echo "fuzz-jpeg: compiling (swiftc -sanitize=fuzzer,address -parse-as-library -O)"
# PoseImage's one package dependency (bounded file reads, PNG helpers) as its own module, as in Package.swift;
# its C helpers (CBlazeTarget: the Y4M conversion loops) through their module map.
build="$out/build"
mkdir -p "$build"
"$swiftc" -sanitize=fuzzer,address -parse-as-library -O -emit-library -static -emit-module \
    -module-name BlazeSupport -emit-module-path "$build/BlazeSupport.swiftmodule" \
    "$root"/Sources/BlazeSupport/*.swift -o "$build/libBlazeSupport.a"
"$swiftc" -sanitize=fuzzer,address -parse-as-library -O -I "$build" -module-name ImageFuzz \
    -I "$root/Sources/CTurboJPEG" -I "$root/Sources/CPNG" -I "$root/Sources/CBlazeTarget" $(pkg-config --cflags-only-I libpng | sed 's/-I/-Xcc -I/g') \
    "$src/RGBImage.swift" "$src/RGBImage+PNG.swift" "$src/RGBImage+JPEG.swift" "$src/RGBImage+File.swift" \
    "$src/RGBImage+Orientation.swift" "$src/JPEGHeader.swift" "$src/PNGHeader.swift" "$src/EXIFOrientation.swift" \
    "$src/ImageFileFormat.swift" "$src/ImageFileLimits.swift" "$src/ImageFileReader.swift" "$src/Y4MReader.swift" \
    "$root/Tools/fuzz/FuzzJPEG.swift" "$build/libBlazeSupport.a" -lturbojpeg -lpng16 -o "$out/fuzz-jpeg"

cp "$root"/Tests/ImageTests/Fixtures/jpeg/*.jpg "$root"/Tests/ImageTests/Fixtures/jpeg/*.png "$out/corpus/"
cp "$root"/Tests/ImageTests/Fixtures/png/*.png "$out/corpus/"

start=$(date +%s)
set +e
"$out/fuzz-jpeg" "$out/corpus" -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=4096 -timeout=10 \
    -artifact_prefix="$out/crashes/" -print_final_stats=1 > "$out/fuzz.log" 2>&1
status=$?
set -e
end=$(date +%s)
crashes=$(find "$out/crashes" -type f | wc -l)
execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$out/fuzz.log" | grep -o '[0-9]*$' || echo "?")
echo "fuzz-jpeg: ran $((end - start)) s, $execs inputs executed, exit status $status, crashes found: $crashes"
grep -E '^#[0-9]+ +DONE' "$out/fuzz.log" | tail -n 1 || true
tail -n 5 "$out/fuzz.log"
[ "$crashes" -eq 0 ] && [ "$status" -eq 0 ]
