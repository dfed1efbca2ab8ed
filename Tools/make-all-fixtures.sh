#!/usr/bin/env bash
# Regenerates every committed test fixture by running the existing generators in order
# (each one documented in its own folder: Tools/mediapipe/STAGES.md, Tools/litert/README.md,
# Tools/opencv/README.md). Long: tens of minutes on 2 cores, and the first run creates the three
# venvs from PyPI (each through its folder's venv.sh, pinned requirements.txt).
#
#   bash Tools/make-all-fixtures.sh [--dry-run] [--from N] [--only N]
#
#   --dry-run   print the numbered steps (what, writes, command) and check that every script they
#               call exists; runs nothing, creates no venv. Exit 1 if a script is missing.
#   --from N    start at step N (e.g. after a failure); --only N runs step N alone.
#
# Needs: weights/ (bash Tools/setup.sh), weights/mediapipe/ (bash Tools/fetch-mediapipe-models.sh),
# the unpacked mediapipe wheel's modules folder for step 5 (MEDIAPIPE_MODELS, default
# /tmp/wheel/x/mediapipe/modules), network to PyPI for the venvs on first use.
# Check the result with `git status` / `git diff --stat` and the test suite.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

dry=0 from=1 only=0
while [ $# -gt 0 ]; do
    case "$1" in
        --dry-run) dry=1; shift ;;
        --from) from=${2:?--from needs a step number}; shift 2 ;;
        --only) only=${2:?--only needs a step number}; shift 2 ;;
        -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
        *) echo "make-all-fixtures: unknown argument $1 (see --help)" >&2; exit 64 ;;
    esac
done

# The venvs' pythons, resolved only when a step runs (a dry run creates nothing).
mp='"$(bash Tools/mediapipe/venv.sh | tail -1)"'
lr='"$(bash Tools/litert/venv.sh | tail -1)"'
cv='"$(bash Tools/opencv/venv.sh | tail -1)"'

# One step per line: what | what it writes | script it runs (checked in --dry-run) | command (bash).
steps=(
"MediaPipe: fixture images, static references (kernel 7, kernel 9, JPEG), per-stage dumps|Tests/Fixtures/{images,mediapipe,mediapipe-kernel9,jpeg,mediapipe-jpeg,stages}, Samples/astronaut.png, Tests/ImageTests/Fixtures/jpeg|Tools/mediapipe/make_fixtures.sh|bash Tools/mediapipe/make_fixtures.sh"
"MediaPipe: synthetic tracking sequence (matrices + frame SHA-256)|Tests/Fixtures/video/sequence.json|Tools/mediapipe/video_make_sequence.py|$mp Tools/mediapipe/video_make_sequence.py"
"MediaPipe: video-mode reference over that sequence|Tests/Fixtures/video/{lite,full}.jsonl|Tools/mediapipe/video_reference.py|$mp Tools/mediapipe/video_reference.py"
"LiteRT: builtin-kernel references of the pose models and the wheel's other float models|Tests/RuntimeTests/Fixtures/<model>/<image>/|Tools/litert/make_fixtures.sh|bash Tools/litert/make_fixtures.sh"
"MediaPipe graph + LiteRT: references of the custom-operator models|Tests/RuntimeTests/Fixtures/{selfie_segmentation,selfie_segmentation_landscape,face_landmark_with_attention}/|Tools/mediapipe/custom_op_references.py|python3 Tools/mediapipe/custom_op_references.py all --image Samples/astronaut.png --out Tests/RuntimeTests/Fixtures"
"NumPy-written .npy samples for NPYTests|Tests/RuntimeTests/Fixtures/npy/|Tools/litert/make_npy_samples.py|$lr Tools/litert/make_npy_samples.py"
"hand-written block-sparse model (standard library only)|Tests/TFLiteTests/Fixtures/tiny_block_sparse.model|Tools/fuzz/make_seed_model.py|python3 Tools/fuzz/make_seed_model.py Tests/TFLiteTests/Fixtures/tiny_block_sparse.model"
"LiteRT: DEQUANTIZE/DENSIFY constant references (after the block-sparse model)|Tests/TFLiteTests/Fixtures/*.constants.json|Tools/litert/dump_constants.py|python3 Tools/litert/dump_constants.py"
"OpenCV 4.10: PNG decoder cases|Tests/ImageTests/Fixtures/png/|Tools/opencv/make_png_cases.py|$cv Tools/opencv/make_png_cases.py"
"OpenCV 4.10: warp cases|Tests/ImageTests/Fixtures/warp_cases.json|Tools/opencv/make_warp_cases.py|$cv Tools/opencv/make_warp_cases.py"
"LiteRT: per-layer shapes of every model for the kernel tests (generated Swift)|Tests/KernelTests/LayerShapes.swift|Tools/gen-layer-shapes.py|python3 Tools/gen-layer-shapes.py"
)

missing=0
for i in "${!steps[@]}"; do
    n=$((i + 1))
    IFS='|' read -r what writes script command <<< "${steps[$i]}"
    if [ "$only" != 0 ] && [ "$n" != "$only" ]; then continue; fi
    if [ "$n" -lt "$from" ]; then continue; fi
    if [ "$dry" = 1 ]; then
        if [ -f "$script" ]; then ok="ok"; else ok="MISSING"; missing=$((missing + 1)); fi
        printf '%2d. %s\n    writes:  %s\n    runs:    %s\n    script:  %s (%s)\n' "$n" "$what" "$writes" "$command" "$script" "$ok"
        continue
    fi
    [ -f "$script" ] || { echo "make-all-fixtures: step $n: $script missing" >&2; exit 1; }
    echo "=== step $n/${#steps[@]}: $what" >&2
    bash -c "set -euo pipefail; $command" || { echo "make-all-fixtures: step $n failed: $command (resume with --from $n)" >&2; exit 1; }
done
if [ "$dry" = 1 ]; then
    for venv in Tools/mediapipe/venv.sh Tools/litert/venv.sh Tools/opencv/venv.sh; do
        [ -f "$venv" ] && [ -f "$(dirname "$venv")/requirements.txt" ] || { echo "missing: $venv or its requirements.txt"; missing=$((missing + 1)); }
    done
    [ "$missing" = 0 ] && echo "dry run: ${#steps[@]} steps, every script present; nothing was run" || { echo "dry run: $missing missing" >&2; exit 1; }
else
    echo "done: check git status / git diff --stat, then swift test -c release --disable-swift-testing" >&2
fi
