#!/usr/bin/env bash
# Creates (or reuses) the Python venv for the LiteRT reference tools at
# Tools/.venv-litert and prints its python path on stdout. Idempotent: a venv whose
# packages already import is reused without touching the network.
#
# Packages (PyPI): ai-edge-litert (LiteRT interpreter: builtin kernels + XNNPACK),
# numpy, and -- for the fixture images only -- scikit-image (astronaut.png) and
# matplotlib (grace_hopper.jpg, plus Pillow to decode it).
#
# Usage: bash Tools/litert/venv.sh            # -> prints .../Tools/.venv-litert/bin/python
#        PY=$(bash Tools/litert/venv.sh)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
venv="$root/Tools/.venv-litert"
py="$venv/bin/python"

if [ ! -x "$py" ]; then
    echo "venv.sh: creating $venv" >&2
    python3 -m venv "$venv" >&2
fi
if ! "$py" -c 'import ai_edge_litert.interpreter, numpy, skimage, matplotlib, PIL' 2>/dev/null; then
    echo "venv.sh: installing ai-edge-litert numpy scikit-image matplotlib pillow" >&2
    "$py" -m pip install --quiet --upgrade pip >&2 || true
    "$py" -m pip install --quiet ai-edge-litert numpy scikit-image matplotlib pillow >&2
fi
echo "$py"
