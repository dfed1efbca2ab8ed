#!/usr/bin/env bash
# Builds the TFLite, BlazeKernels and BlazeRuntime modules and Tools/fuzz/FuzzInterpreter.swift with
# libFuzzer and AddressSanitizer, seeds a corpus with the hand-written block-sparse model
# (make_seed_model.py: DENSIFY, DEQUANTIZE, PAD, CONV_2D, MAX_POOL_2D), runs for SECONDS (default
# 600) on one core, and prints inputs executed, coverage and crashes.
# Usage: bash Tools/fuzz/run-interpreter.sh [SECONDS]     Output: Tools/fuzz/out-interpreter/ (git-ignored)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
seconds=${1:-600}
out="$root/Tools/fuzz/out-interpreter"
build="$out/build"
mkdir -p "$out/corpus" "$out/crashes" "$build"
swiftc=${SWIFTC:-swiftc}
flags=(-sanitize=fuzzer,address -parse-as-library -O -I "$build")

echo "fuzz: compiling modules (swiftc ${flags[*]})"
module() { # name, then sources
    local name=$1; shift
    "$swiftc" "${flags[@]}" -I "$root/Sources/COpenBLAS" -I "$root/Sources/CBlazeTarget" -emit-library -static -emit-module \
        -module-name "$name" -emit-module-path "$build/$name.swiftmodule" "$@" -o "$build/lib$name.a"
}
module BlazeSupport "$root"/Sources/BlazeSupport/*.swift
module TFLite "$root"/Sources/TFLite/*.swift
module BlazeKernels "$root"/Sources/BlazeKernels/*.swift
module BlazeRuntime "$root"/Sources/BlazeRuntime/*.swift "$root"/Sources/BlazeRuntime/Operators/*.swift
"$swiftc" "${flags[@]}" -I "$root/Sources/COpenBLAS" -I "$root/Sources/CBlazeTarget" "$root/Tools/fuzz/FuzzInterpreter.swift" \
    "$build/libBlazeRuntime.a" "$build/libBlazeKernels.a" "$build/libTFLite.a" "$build/libBlazeSupport.a" -lopenblas -o "$out/fuzz-interpreter"

python3 "$root/Tools/fuzz/make_seed_model.py" "$out/corpus/tiny_block_sparse" > /dev/null

start=$(date +%s)
set +e
"$out/fuzz-interpreter" "$out/corpus" -max_total_time="$seconds" -max_len=8192 -rss_limit_mb=2048 \
    -artifact_prefix="$out/crashes/" -print_final_stats=1 > "$out/fuzz.log" 2>&1
status=$?
set -e
end=$(date +%s)
crashes=$(find "$out/crashes" -type f | wc -l)
execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$out/fuzz.log" | grep -o '[0-9]*$' || echo "?")
cov=$(grep -o 'cov: [0-9]*' "$out/fuzz.log" | tail -1 || true)
echo "fuzz: ran $((end - start)) s, $execs inputs executed, ${cov:-cov: ?} edges, exit status $status, crashes found: $crashes"
tail -n 5 "$out/fuzz.log"
[ "$crashes" -eq 0 ] && [ "$status" -eq 0 ]
