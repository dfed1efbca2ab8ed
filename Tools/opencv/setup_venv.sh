#!/usr/bin/env bash
# Creates Tools/.venv-opencv with the pinned OpenCV used to make the ImageTests fixtures.
# opencv-python-headless 4.10.0.84 is pinned on purpose. Measured on the warp fixtures:
# 4.12.0 gives identical output, but 5.0.0 (PyPI's default at the time of writing) has new
# warpPerspective/warpAffine kernels that differ (61/63 perspective cases, up to 6 grey levels; all
# mask cases, up to 0.02). MediaPipe's bundled OpenCV uses the classic 4.x fixed-point path.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv-opencv
.venv-opencv/bin/pip install -q "opencv-python-headless==4.10.0.84" "numpy<2.3"
.venv-opencv/bin/python -c "import cv2; print('opencv', cv2.__version__)"
