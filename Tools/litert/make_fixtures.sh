#!/usr/bin/env bash
# Regenerates the LiteRT reference fixtures of the runtime tests:
#   Tests/RuntimeTests/Fixtures/<model>/<image>/{input.npy, manifest.json, <output>.npy}
# Inputs are real public-domain photos shipped in PyPI packages (scikit-image's
# astronaut.png, matplotlib's grace_hopper.jpg), stored as uint8 [1, H, W, 3] NHWC;
# the model input is x = Float32(p) * scale + offset in float32 (see reference.py).
# Outputs come from LiteRT's builtin kernels, 1 thread; each manifest also records
# max|XNNPACK - builtin| / max|builtin| per output.
#
# Budget: the committed fixtures stay under ~5 MB, so the full model (256x256
# segmentation + 64x64x39 heatmap outputs) gets one image.
#
# Usage: bash Tools/litert/make_fixtures.sh     (needs weights/: bash Tools/setup.sh)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
PY=$(bash Tools/litert/venv.sh)
fx=Tests/RuntimeTests/Fixtures
export TF_CPP_MIN_LOG_LEVEL=2

for m in pose_detection pose_landmark_lite pose_landmark_full; do
    [ -f "weights/$m.tflite" ] || { echo "make_fixtures: weights/$m.tflite missing (run bash Tools/setup.sh)" >&2; exit 1; }
done

ref() { # model image preset [extra args...]
    local model=$1 image=$2 preset=$3; shift 3
    local out="$fx/$model/$image"
    rm -rf "$out"
    "$PY" Tools/litert/reference.py "weights/$model.tflite" --image "$image" --preset "$preset" \
        --out "$out" --compare-xnnpack --label "$model on $image ($preset pre-processing)" "$@"
}

# Detector: whole image letterboxed to 224x224.
ref pose_detection astronaut detector
ref pose_detection grace_hopper detector
# Landmarks: a square around the person (x y size in source pixels), resized to 256x256.
#   astronaut.png is 512x512 (the person fills it); grace_hopper.jpg is 512 wide, 600 high.
ref pose_landmark_lite astronaut landmark --crop 0 0 512
ref pose_landmark_lite grace_hopper landmark --crop 0 60 512
ref pose_landmark_full astronaut landmark --crop 0 0 512

du -sh "$fx"

# MediaPipe's other float models (weights/mediapipe/, from bash Tools/fetch-mediapipe-models.sh),
# one real input each: detectors on the whole image letterboxed ([-1, 1] for the face
# detectors, [0, 1] for palm detection, as MediaPipe's graphs feed them); landmark models on a
# crop of what they look for in astronaut.png: her face (145 25 160), her right eye (188 98 40),
# her gloved left hand at the bottom edge (100 420 92), the person (0 0 512).
refm() { # model image preset [extra args...]
    local model=$1 image=$2 preset=$3; shift 3
    local out="$fx/$model/$image"
    [ -f "weights/mediapipe/$model.tflite" ] || { echo "make_fixtures: weights/mediapipe/$model.tflite missing (run bash Tools/fetch-mediapipe-models.sh)" >&2; exit 1; }
    rm -rf "$out"
    "$PY" Tools/litert/reference.py "weights/mediapipe/$model.tflite" --image "$image" --preset "$preset" \
        --out "$out" --compare-xnnpack --label "$model on $image ($preset pre-processing)" "$@"
}
refm face_detection_short_range astronaut detector
refm face_detection_full_range_sparse astronaut detector
refm face_landmark astronaut landmark --crop 145 25 160
refm iris_landmark astronaut landmark --crop 188 98 40
refm palm_detection_lite astronaut landmark --crop 0 0 512
refm palm_detection_full astronaut landmark --crop 0 0 512
refm hand_landmark_lite astronaut landmark --crop 100 420 92
refm hand_landmark_full astronaut landmark --crop 100 420 92
refm hand_recrop astronaut landmark --crop 100 420 92
