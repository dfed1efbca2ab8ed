#!/usr/bin/env bash
# Creates (or reuses) Tools/.venv-opencv with the pinned OpenCV used to make the ImageTests fixtures,
# from Tools/opencv/requirements.txt next to this script (which says why 4.10.0.84), and prints its
# python path on the last line of stdout. Idempotent: reinstalls only when the requirements changed
# or cv2 does not import. This is the only place that creates Tools/.venv-opencv (Tools/README.md).
#
# Usage: PY=$(bash Tools/opencv/venv.sh | tail -1)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
venv="$root/Tools/.venv-opencv"
py="$venv/bin/python"
reqs="$here/requirements.txt"
stamp="$venv/.requirements"
if [ ! -x "$py" ]; then
    echo "venv.sh: creating $venv" >&2
    python3 -m venv "$venv" >&2
fi
if ! cmp -s "$reqs" "$stamp" || ! "$py" -c 'import cv2, numpy' 2>/dev/null; then
    echo "venv.sh: installing $reqs into $venv" >&2
    "$py" -m pip install --quiet -r "$reqs" >&2
    cp "$reqs" "$stamp"
fi
"$py" -c "import cv2; print('opencv', cv2.__version__)" >&2
echo "$py"
