#!/usr/bin/env bash
# Creates (or reuses) Tools/.venv-mediapipe with the MediaPipe 0.10.14 reference stack, from the
# pinned Tools/mediapipe/requirements.txt next to this script. Idempotent: re-running installs only
# when the requirements changed or a package does not import, and re-copies the pose models.
# This is the only place that creates or installs into Tools/.venv-mediapipe (Tools/README.md).
# Prints the venv's python path on the last line (so callers can do PY=$(bash venv.sh | tail -1)).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
VENV="$ROOT/Tools/.venv-mediapipe"

# mediapipe 0.10.14 ships wheels for CPython 3.8-3.12; prefer 3.11.
PYBASE="${PYTHON:-}"
if [ -z "$PYBASE" ]; then
  for cand in /root/.pyenv/versions/3.11.*/bin/python3 python3.11 python3; do
    if command -v "$cand" >/dev/null 2>&1; then PYBASE="$cand"; break; fi
  done
fi

if [ ! -x "$VENV/bin/python" ]; then
  echo "creating $VENV with $PYBASE" >&2
  "$PYBASE" -m venv "$VENV" >&2
fi
PY="$VENV/bin/python"

# Pinned (requirements.txt says why) so references and fixture images regenerate bit-identically.
REQS="$HERE/requirements.txt"
STAMP="$VENV/.requirements"
if ! cmp -s "$REQS" "$STAMP" || \
   ! "$PY" -c 'import mediapipe, numpy, skimage, matplotlib, PIL, cv2' >/dev/null 2>&1; then
  echo "installing $REQS into $VENV" >&2
  "$PY" -m pip install --quiet -r "$REQS" >&2
  cp "$REQS" "$STAMP"
fi

# The wheel lacks pose_landmark_lite.tflite (it downloads it at run time, which is impossible here).
MPDIR="$("$PY" -c 'import os, mediapipe; print(os.path.dirname(mediapipe.__file__))')"
DEST="$MPDIR/modules/pose_landmark"
for m in pose_landmark_lite.tflite pose_landmark_full.tflite; do
  SRC="$ROOT/weights/$m"
  if [ ! -f "$SRC" ]; then
    echo "error: $SRC missing (run bash Tools/setup.sh)" >&2; exit 1
  fi
  if [ ! -f "$DEST/$m" ] || ! cmp -s "$SRC" "$DEST/$m"; then
    cp "$SRC" "$DEST/$m"
    echo "copied $m into $DEST" >&2
  fi
done
echo "$PY"
