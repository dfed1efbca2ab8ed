#!/usr/bin/env bash
# Extracts MediaPipe's other float models (face, hand, iris, palm, selfie segmentation) from the
# mediapipe==0.10.14 wheel on PyPI into weights/mediapipe/, each sha256-verified. Idempotent:
# when every file is present with the right hash nothing is downloaded.
#
#   Tools/fetch-mediapipe-models.sh [--wheel FILE]    # --wheel: use an already downloaded wheel
#
# The engine's tests run every one of these models against LiteRT references
# (Tests/RuntimeTests/Fixtures/<model>/); the pose models themselves come from fetch-weights.sh.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dest="$root/weights/mediapipe"
wheel=""
while [ $# -gt 0 ]; do
    case "$1" in
        --wheel) wheel="$2"; shift 2 ;;
        -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
        *) echo "fetch-mediapipe-models: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done

# member path in the wheel (under mediapipe/modules/) and its sha256.
models="
face_detection/face_detection_full_range_sparse.tflite 2c3728e6da56f21e21a320433396fb06d40d9088f2247c05e5635a688d45dfe1
face_detection/face_detection_short_range.tflite bbff11cebd1eb27a1e004cae0b0e63ec8c551cbf34a4451148b4908b8db3eca8
face_landmark/face_landmark.tflite 1055cb9d4a9ca8b8c688902a3a5194311138ba256bcc94e336d8373a5f30c814
face_landmark/face_landmark_with_attention.tflite e06a804e0144f9929eda782122916b35d60c697c3c9344013ca2bbe76a6ce2b4
hand_landmark/hand_landmark_full.tflite 11c272b891e1a99ab034208e23937a8008388cf11ed2a9d776ed3d01d0ba00e3
hand_landmark/hand_landmark_lite.tflite 048edd3645c9bf7397d19a9f6e3a42957d6e414c9bea6598030a2e9b624156e6
holistic_landmark/hand_recrop.tflite 67d996ce96f9d36fe17d2693022c6da93168026ab2f028f9e2365398d8ac7d5d
iris_landmark/iris_landmark.tflite d1744d2a09c25f501d39eba4faff47e53ecca8852c5ce19bce8eeac39357521f
palm_detection/palm_detection_full.tflite 1b14e9422c6ad006cde6581a46c8b90dd573c07ab7f3934b5589e7cea3f89a54
palm_detection/palm_detection_lite.tflite e9a4aaddf90dda56a87235303cf00e4c2d3fb28725f68fd88772997dac905c18
selfie_segmentation/selfie_segmentation.tflite 9ee168ec7c8f2a16c56fe8e1cfbc514974cbbb7e434051b455635f1bd1462f5c
selfie_segmentation/selfie_segmentation_landscape.tflite a77d03f4659b9f6b6c1f5106947bf40e99d7655094b6527f214ea7d451106edd
"

sha_of() { sha256sum "$1" | cut -d' ' -f1; }
missing=0
while read -r member hash; do
    [ -n "$member" ] || continue
    f="$dest/$(basename "$member")"
    [ -f "$f" ] && [ "$(sha_of "$f")" = "$hash" ] || missing=1
done <<< "$models"
[ "$missing" = 1 ] || { echo "fetch-mediapipe-models: all present in $dest"; exit 0; }

mkdir -p "$dest"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
if [ -z "$wheel" ]; then
    echo "fetch-mediapipe-models: downloading the mediapipe==0.10.14 wheel from PyPI"
    python3 -m pip download --quiet --no-deps --only-binary=:all: \
        --python-version 3.11 --platform manylinux2014_x86_64 mediapipe==0.10.14 -d "$tmp"
    wheel=$(ls "$tmp"/mediapipe-0.10.14-*.whl)
fi
members=$(awk 'NF { print "mediapipe/modules/" $1 }' <<< "$models")
# shellcheck disable=SC2086
python3 - "$wheel" "$tmp" $members <<'PY'
import sys, zipfile
wheel, out, members = sys.argv[1], sys.argv[2], sys.argv[3:]
with zipfile.ZipFile(wheel) as z:
    for member in members:
        with open(f"{out}/{member.rsplit('/', 1)[1]}", "wb") as f:
            f.write(z.read(member))
PY
while read -r member hash; do
    [ -n "$member" ] || continue
    name=$(basename "$member")
    found=$(sha_of "$tmp/$name")
    if [ "$found" != "$hash" ]; then
        echo "fetch-mediapipe-models: sha256 mismatch for $name: expected $hash, found $found" >&2
        exit 1
    fi
    install -m 0644 "$tmp/$name" "$dest/$name"
    echo "fetch-mediapipe-models: ok  mediapipe/$name"
done <<< "$models"
