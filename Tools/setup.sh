#!/usr/bin/env bash
# One-time, idempotent set-up on a Debian machine: system libraries and weights.
# Installs libopenblas-dev, libpng-dev and pkg-config with apt when missing
# (as root, or through sudo), then runs Tools/fetch-weights.sh (the pose models) and
# Tools/fetch-mediapipe-models.sh (MediaPipe's other float models, for the engine's tests).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

need=()
for p in libopenblas-dev libpng-dev pkg-config; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
    sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
    echo "setup: installing ${need[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi

"$root/Tools/fetch-weights.sh" "$@"
"$root/Tools/fetch-mediapipe-models.sh"
