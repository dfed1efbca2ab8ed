#!/usr/bin/env bash
# Creates (or reuses) the Python venv for the LiteRT reference tools at Tools/.venv-litert from the
# pinned Tools/litert/requirements.txt next to this script, and prints its python path on the last
# line of stdout (everything else goes to stderr). Idempotent: a venv whose installed requirements
# match the file and whose packages import is reused without touching the network.
# This is the only place that creates or installs into Tools/.venv-litert (Tools/README.md).
#
# Packages (PyPI): ai-edge-litert (LiteRT interpreter: builtin kernels + XNNPACK), numpy, and --
# for the fixture images only -- scikit-image (astronaut.png) and matplotlib (grace_hopper.jpg,
# plus Pillow to decode it).
#
# Usage: bash Tools/litert/venv.sh            # -> prints .../Tools/.venv-litert/bin/python
#        PY=$(bash Tools/litert/venv.sh | tail -1)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
venv="$root/Tools/.venv-litert"
py="$venv/bin/python"
reqs="$here/requirements.txt"
stamp="$venv/.requirements"

if [ ! -x "$py" ]; then
    echo "venv.sh: creating $venv" >&2
    python3 -m venv "$venv" >&2
fi
if ! cmp -s "$reqs" "$stamp" || ! "$py" -c 'import ai_edge_litert.interpreter, numpy, skimage, matplotlib, PIL' 2>/dev/null; then
    echo "venv.sh: installing $reqs into $venv" >&2
    "$py" -m pip install --quiet -r "$reqs" >&2
    cp "$reqs" "$stamp"
fi
echo "$py"
