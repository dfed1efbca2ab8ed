#!/usr/bin/env bash
# Batch detection side by side: N images (the fixture images repeated, as symlinks) through
#   (a) N single-image processes   `blazepose detect IMAGE --json -`
#   (b) one call                   `blazepose detect DIR --jsonl - --jobs 1`
#   (c) one call                   `blazepose detect DIR --jsonl - --jobs 2`
# prints images/s of each and the ratio (c)/(b), and checks that the three outputs are identical
# line for line apart from "timing_ms".
#
#   bash Tools/batch_bench.sh [BINARY] [N=200] [MODEL=full]
# BINARY defaults to the fast build (Tools/build.sh).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=${1:-$(bash "$root/Tools/build.sh")}
n=${2:-200}
model=${3:-full}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
mkdir "$work/images"
mapfile -t fixtures < <(ls "$root"/Tests/Fixtures/images/*.png | sort)
for ((i = 0; i < n; i++)); do
    ln -s "${fixtures[i % ${#fixtures[@]}]}" "$work/images/$(printf 'img_%04d.png' "$i")"
done
now() { date +%s.%N; }
strip() { sed -E 's/,"timing_ms":\{[^}]*\}//' "$1"; }

t0=$(now)
for f in "$work"/images/*.png; do
    printf '{"file":"%s",' "$f"
    "$bin" detect "$f" --json - --model "$model" | cut -c2-
done > "$work/single.jsonl"
t1=$(now)
"$bin" detect "$work/images" --jsonl "$work/jobs1.jsonl" --jobs 1 --model "$model" 2> "$work/jobs1.err"
t2=$(now)
"$bin" detect "$work/images" --jsonl "$work/jobs2.jsonl" --jobs 2 --model "$model" 2> "$work/jobs2.err"
t3=$(now)

python3 - "$n" "$t0" "$t1" "$t2" "$t3" <<'PY'
import sys
n, t0, t1, t2, t3 = int(sys.argv[1]), *map(float, sys.argv[2:])
single, j1, j2 = t1 - t0, t2 - t1, t3 - t2
print(f"{n} images, model as given, wall time:")
print(f"  {n} single-image processes : {single:7.2f} s  {n / single:6.1f} images/s")
print(f"  one call, --jobs 1          : {j1:7.2f} s  {n / j1:6.1f} images/s")
print(f"  one call, --jobs 2          : {j2:7.2f} s  {n / j2:6.1f} images/s")
print(f"  --jobs 2 / --jobs 1 throughput: {j1 / j2:.2f}x   --jobs 2 / single processes: {single / j2:.2f}x")
PY
cat "$work/jobs1.err" "$work/jobs2.err"
same=1
for f in jobs1 jobs2; do
    if cmp -s <(strip "$work/single.jsonl") <(strip "$work/$f.jsonl"); then
        echo "identical apart from timing_ms: single-image processes vs $f ($(wc -l < "$work/$f.jsonl") lines)"
    else
        echo "DIFFERENT: single-image processes vs $f"; diff <(strip "$work/single.jsonl") <(strip "$work/$f.jsonl") | head -5; same=0
    fi
done
[ "$same" = 1 ]
