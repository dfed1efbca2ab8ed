#!/usr/bin/env bash
# One-time, idempotent set-up on a Debian machine: system libraries and weights.
# Installs libopenblas-dev, libpng-dev, libturbojpeg0-dev and pkg-config with apt when missing
# (as root, or through sudo), then runs Tools/fetch-weights.sh: the pose models go to weights/ and,
# sha256-verified, to /usr/local/share/blazepose/weights (root) or ~/.local/share/blazepose/weights,
# where every blazepose binary and library consumer finds them (arguments go to fetch-weights.sh).
# Then Tools/fetch-mediapipe-models.sh puts MediaPipe's other float models in weights/mediapipe/
# for the engine's tests.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

need=()
for p in libopenblas-dev libpng-dev libturbojpeg0-dev pkg-config; do
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
