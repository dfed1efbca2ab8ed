#!/usr/bin/env bash
# Regenerates every committed MediaPipe fixture: images, static references (kernel 7 and 9),
# and the small per-stage dumps in Tests/Fixtures/stages/. Takes ~2 minutes on 2 cores.
#   bash Tools/mediapipe/make_fixtures.sh [--skip-images]
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
PY="$(bash "$HERE/venv.sh" | tail -1)"
cd "$ROOT"
quiet() { grep -v '^W0000\|^I0000\|^INFO: Created\|^WARNING: All log\|GetPrototype\|warnings.warn' || true; }
if [ "${1:-}" != "--skip-images" ]; then "$PY" "$HERE/make_images.py"; fi
"$PY" "$HERE/reference_static.py" 2>&1 | quiet
"$PY" "$HERE/reference_static.py" --kernel9 --no-mask-files 2>&1 | quiet
# JPEG fixtures (quality 90, one EXIF-rotated) with cv2.imread digests; references on cv2.imread of each.
"$PY" "$HERE/make_jpeg_fixtures.py" 2>&1 | quiet
"$PY" "$HERE/reference_static.py" --images Tests/Fixtures/jpeg --glob '*.jpg' --cv2 --no-mask-files \
  --out Tests/Fixtures/mediapipe-jpeg 2>&1 | quiet
# MediaPipe's own landmark ROI on each JPEG (<name>.roi.json next to the reference), so the tests can run
# our landmark stage on exactly MediaPipe's ROI (JPEGParityTests: the refinement flips).
ROI_TMP="$(mktemp -d)"
for model in lite full; do
  for img in Tests/Fixtures/jpeg/*.jpg; do
    name="$(basename "$img" .jpg)"
    "$PY" "$HERE/stages.py" "$img" --model "$model" --cv2 --tensors none --no-verify \
      --out "$ROI_TMP/$model/$name" 2>&1 | quiet
    if [ -f "$ROI_TMP/$model/$name/roi.json" ]; then
      cp "$ROI_TMP/$model/$name/roi.json" "Tests/Fixtures/mediapipe-jpeg/$model/$name.roi.json"
    fi
  done
done
rm -rf "$ROI_TMP"
# Images whose 8-bit warp outputs (detector + landmark crop, uint8 .npy) are committed.
U8_IMAGES=" astronaut astronaut_rot20 hopper_letterbox "
rm -rf Tests/Fixtures/stages
for model in lite full; do
  for img in Tests/Fixtures/images/*.png; do
    name="$(basename "$img" .png)"
    extra=()
    if [ "$model" = lite ] && [[ "$U8_IMAGES" == *" $name "* ]]; then extra=(--u8); fi
    "$PY" "$HERE/stages.py" "$img" --model "$model" --tensors small ${extra[@]+"${extra[@]}"} \
      --out "Tests/Fixtures/stages/$model/$name" 2>&1 | quiet
  done
done
du -sh Tests/Fixtures/images Tests/Fixtures/mediapipe Tests/Fixtures/mediapipe-kernel9 Tests/Fixtures/stages Tests/Fixtures/jpeg Tests/Fixtures/mediapipe-jpeg
