#!/usr/bin/env bash
# Creates Tools/.venv-opencv with the pinned OpenCV used to make the ImageTests fixtures.
# opencv-python-headless 4.10.0.84 is pinned on purpose: OpenCV >= 4.11 replaced the fixed-point
# warpAffine/warpPerspective INTER_LINEAR path with new SIMD kernels that round differently, while
# MediaPipe's bundled OpenCV uses the classic fixed-point path reproduced in PoseImage.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv-opencv
.venv-opencv/bin/pip install -q "opencv-python-headless==4.10.0.84" "numpy<2.3"
.venv-opencv/bin/python -c "import cv2; print('opencv', cv2.__version__)"
