#!/usr/bin/env bash
# Builds the TFLite reader + Tools/fuzz/FuzzTFLite.swift with libFuzzer and AddressSanitizer, seeds a
# corpus (the hand-written 1.9 KB block-sparse model from make_seed_model.py, which reaches every decoder
# path including DENSIFY/DEQUANTIZE, plus 4 KiB / 64 KiB heads of weights/*.tflite), runs for SECONDS
# (default 600) on one core, and prints how long it ran and how many crashes it found.
# Whole multi-MB models are not seeds: under ASan each takes ~0.5 s, too slow to mutate usefully;
# Tests/TFLiteTests/RobustnessTests mutates the real files instead.
# Usage: bash Tools/fuzz/run.sh [SECONDS]        Output: Tools/fuzz/out/ (git-ignored)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
seconds=${1:-600}
out="$root/Tools/fuzz/out"
mkdir -p "$out/corpus" "$out/crashes"
swiftc=${SWIFTC:-swiftc}

echo "fuzz: compiling (swiftc -sanitize=fuzzer,address -parse-as-library -O)"
build="$out/build"
mkdir -p "$build"
# The reader's one dependency (bounded file reads), as its own module, as in Package.swift.
"$swiftc" -sanitize=fuzzer,address -parse-as-library -O -emit-library -static -emit-module \
    -module-name BlazeSupport -emit-module-path "$build/BlazeSupport.swiftmodule" \
    "$root"/Sources/BlazeSupport/*.swift -o "$build/libBlazeSupport.a"
# The reader's C helpers (CBlazeTarget: the sparse index scans) through their module map.
"$swiftc" -sanitize=fuzzer,address -parse-as-library -O -I "$build" -I "$root/Sources/CBlazeTarget" -module-name TFLiteFuzz \
    "$root"/Sources/TFLite/*.swift "$root/Tools/fuzz/FuzzTFLite.swift" "$build/libBlazeSupport.a" -o "$out/fuzz-tflite"

python3 "$root/Tools/fuzz/make_seed_model.py" "$out/corpus/tiny_block_sparse" > /dev/null
for model in "$root"/weights/*.tflite; do
    [ -f "$model" ] || continue
    name=$(basename "$model" .tflite)
    head -c 4096 "$model" > "$out/corpus/$name.head4k"
    head -c 65536 "$model" > "$out/corpus/$name.head64k"
done

start=$(date +%s)
set +e
"$out/fuzz-tflite" "$out/corpus" -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=4096 \
    -artifact_prefix="$out/crashes/" -print_final_stats=1 > "$out/fuzz.log" 2>&1
status=$?
set -e
end=$(date +%s)
crashes=$(find "$out/crashes" -type f | wc -l)
execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$out/fuzz.log" | grep -o '[0-9]*$' || echo "?")
echo "fuzz: ran $((end - start)) s, $execs inputs executed, exit status $status, crashes found: $crashes"
tail -n 5 "$out/fuzz.log"
[ "$crashes" -eq 0 ] && [ "$status" -eq 0 ]
