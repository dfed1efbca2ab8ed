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
strip() { sed -E 's/,"timing_ms":\{[^}]*\}//' "$1"; }
# timed NAME CMD...: runs CMD under /usr/bin/time, wall and CPU (user + sys) seconds into $work/NAME.time.
timed() { local name=$1; shift; /usr/bin/time -f '%e %U %S' -o "$work/$name.time" "$@"; }
export bin model
timed single bash -c 'for f in "$0"/images/*.png; do
    printf "{\"file\":\"%s\"," "$f"
    "$bin" detect "$f" --json - --model "$model" | cut -c2-
done > "$0/single.jsonl"' "$work"
timed jobs1 "$bin" detect "$work/images" --jsonl "$work/jobs1.jsonl" --jobs 1 --model "$model" 2> "$work/jobs1.err"
timed jobs2 "$bin" detect "$work/images" --jsonl "$work/jobs2.jsonl" --jobs 2 --model "$model" 2> "$work/jobs2.err"

python3 - "$n" "$model" "$work" <<'PY'
import sys
n, model, work = int(sys.argv[1]), sys.argv[2], sys.argv[3]
def read(name):
    wall, user, system = map(float, open(f"{work}/{name}.time").read().split()[-3:])
    return wall, user + system
rows = [(f"{n} single-image processes", read("single")), ("one call, --jobs 1", read("jobs1")), ("one call, --jobs 2", read("jobs2"))]
print(f"{n} images (model {model}): wall s, images/s, CPU s (user+sys), CPU ms/image, cores busy")
for name, (wall, cpu) in rows:
    print(f"  {name:28} {wall:8.2f} s {n / wall:7.1f} images/s  CPU {cpu:7.2f} s  {1000 * cpu / n:6.1f} ms/image  {cpu / wall:4.2f}")
(s, _), (j1, _), (j2, _) = (r[1] for r in rows)
print(f"  throughput --jobs 2 / --jobs 1: {j1 / j2:.2f}x   --jobs 2 / single processes: {s / j2:.2f}x")
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
