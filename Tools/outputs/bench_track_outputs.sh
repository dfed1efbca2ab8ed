#!/usr/bin/env bash
# Wall time of `blazepose track` on a 300-frame 640x480 video made from the fixtures: plain,
# --annotate-dir, --annotate-video, --mask-dir, side by side with the ratio to plain: wall time,
# and CPU time (user + sys), which a busy shared machine distorts much less than wall time.
# If ffmpeg is installed, also decodes the annotated Y4M with ffmpeg (frame count) and runs the
# README's mp4 → track → mp4 recipe.
#
# usage: [ROUNDS=N] bash Tools/outputs/bench_track_outputs.sh [BINARY] [THREADS] [FRAMES]
#   BINARY default .build/release/blazepose (swift build -c release); THREADS default 2.
#   ROUNDS (default 1): run the four variants N times, interleaved, and report each variant's
#   fastest wall time and smallest CPU time (other processes only ever add time).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
BIN=${1:-.build/release/blazepose}
THREADS=${2:-2}
FRAMES=${3:-300}
ROUNDS=${ROUNDS:-1}
PY=${PYTHON:-$(bash Tools/mediapipe/venv.sh | tail -1)}   # numpy + opencv: the MediaPipe venv
WORK=$(mktemp -d /tmp/blazepose-bench-outputs.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
"$PY" Tools/outputs/make_sequence.py "$WORK/in.y4m" "$FRAMES"

run() {   # name, extra arguments… → "name wall-seconds cpu-seconds" (CPU = user + sys of the process)
    local name=$1; shift
    rm -rf "$WORK/out"; mkdir -p "$WORK/out"
    local TIMEFORMAT='%R %U %S' t
    t=$( { time "$BIN" track "$WORK/in.y4m" --threads "$THREADS" "$@" 2> "$WORK/$name.log" >/dev/null; } 2>&1 )
    read -r wall user sys <<< "$t"
    echo "$name $wall $(echo "$user + $sys" | bc -l)"
}
"$BIN" track "$WORK/in.y4m" --threads "$THREADS" --model full 2>/dev/null >/dev/null   # warm the page cache
declare -A wall cpu
for round in $(seq "$ROUNDS"); do
    for variant in plain annotate-dir annotate-video mask-dir; do
        case $variant in
            plain) r=$(run plain) ;;
            annotate-dir) r=$(run annotate-dir --annotate-dir "$WORK/out/ann") ;;
            annotate-video) r=$(run annotate-video --annotate-video "$WORK/out/ann.y4m") ;;
            mask-dir) r=$(run mask-dir --mask-dir "$WORK/out/masks") ;;
        esac
        read -r _ w c <<< "$r"
        if [ "$ROUNDS" -gt 1 ]; then echo "  round $round: $variant wall $w s, CPU $c s"; fi
        if [ -z "${wall[$variant]:-}" ] || [ "$(echo "$w < ${wall[$variant]}" | bc -l)" = 1 ]; then wall[$variant]=$w; fi
        if [ -z "${cpu[$variant]:-}" ] || [ "$(echo "$c < ${cpu[$variant]}" | bc -l)" = 1 ]; then cpu[$variant]=$c; fi
        if [ "$variant" = annotate-video ]; then cp "$WORK/out/ann.y4m" "$WORK/ann.y4m"; fi
    done
done
if [ "$ROUNDS" -gt 1 ]; then echo "best of $ROUNDS rounds:"; fi
echo "track $FRAMES frames 640x480, model full, --threads $THREADS ($(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)):"
for variant in plain annotate-dir annotate-video mask-dir; do
    printf "  %-16s wall %7.2f s  %.2fx plain | CPU %7.2f s  %.2fx plain\n" "$variant" "${wall[$variant]}" \
        "$(echo "${wall[$variant]} / ${wall[plain]}" | bc -l)" "${cpu[$variant]}" "$(echo "${cpu[$variant]} / ${cpu[plain]}" | bc -l)"
done
tail -1 "$WORK/plain.log"

if command -v ffmpeg >/dev/null; then
    n=$(ffmpeg -v error -i "$WORK/ann.y4m" -f null - -stats 2>&1 | grep -o 'frame= *[0-9]*' | tail -1 | tr -dc 0-9)
    echo "ffmpeg decodes the annotated Y4M: $n frames"
    # README recipe, in and out.
    ffmpeg -v error -y -i "$WORK/in.y4m" -pix_fmt yuv420p "$WORK/in.mp4"
    ffmpeg -v error -i "$WORK/in.mp4" -f yuv4mpegpipe - \
        | "$BIN" track - --threads "$THREADS" --annotate-video - 2>/dev/null \
        | ffmpeg -v error -y -i - "$WORK/out.mp4"
    m=$(ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames,width,height \
        -of csv=p=0 "$WORK/out.mp4")
    echo "ffmpeg -i in.mp4 -f yuv4mpegpipe - | blazepose track - --annotate-video - | ffmpeg -i - out.mp4: out.mp4 width,height,frames = $m"
else
    echo "ffmpeg not installed: skipped the ffmpeg checks"
fi
