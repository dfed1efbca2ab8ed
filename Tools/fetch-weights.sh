#!/usr/bin/env bash
# Fetches the BlazePose models into weights/, verifies their sha256, and installs them where the
# weights search order finds them from any program (step 6 as root, else step 5):
#   /usr/local/share/blazepose/weights  (root)
#   $XDG_DATA_HOME/blazepose/weights    (default ~/.local/share/blazepose/weights)
#
#   Tools/fetch-weights.sh [--lite-dir DIR] [--heavy FILE] [--install-dir DIR | --no-install]
#
# - pose_detection.tflite and pose_landmark_full.tflite: extracted from the
#   mediapipe==0.10.14 wheel on PyPI (pip download, platform tags pinned so any
#   local Python works).
# - pose_landmark_lite.tflite: copied from ../shared/weights/ when that folder
#   exists, or from --lite-dir DIR.
# - pose_landmark_heavy.tflite: only from its official download; pass --heavy FILE
#   to install a local copy. Without it, this script prints where to get it.
# Idempotent: files already present with the right hash (in weights/ and in the install
# directory) are left alone.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
weights="$root/weights"
lite_dir=""
heavy_file=""
install_dir=""
no_install=0
while [ $# -gt 0 ]; do
    case "$1" in
        --lite-dir) lite_dir="$2"; shift 2 ;;
        --heavy) heavy_file="$2"; shift 2 ;;
        --install-dir) install_dir="$2"; shift 2 ;;
        --no-install) no_install=1; shift ;;
        -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
        *) echo "fetch-weights: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
[ -n "$lite_dir" ] || lite_dir="$root/../shared/weights"

declare -A sha=(
    [pose_detection.tflite]=9ba9dd3d42efaaba86b4ff0122b06f29c4122e756b329d89dca1e297fd8f866c
    [pose_landmark_full.tflite]=e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f
    [pose_landmark_lite.tflite]=0e0d22450724475de81b5074cf8deac54268cd9af73c883c02475b768e4ec7e4
    [pose_landmark_heavy.tflite]=652e230257daf572b6f255706973a9655b1d20dfe9190eff93bbee84a61d87ca
)
heavy_url="https://storage.googleapis.com/mediapipe-assets/pose_landmark_heavy.tflite"

sha_of() { sha256sum "$1" | cut -d' ' -f1; }
has_good() { [ -f "$weights/$1" ] && [ "$(sha_of "$weights/$1")" = "${sha[$1]}" ]; }
# verify FILE NAME: fails naming the file, the expected and the found hash.
verify() {
    local found; found=$(sha_of "$1")
    if [ "$found" != "${sha[$2]}" ]; then
        echo "fetch-weights: sha256 mismatch for $2 ($1)" >&2
        echo "  expected ${sha[$2]}" >&2
        echo "  found    $found" >&2
        return 1
    fi
}

mkdir -p "$weights"

if ! has_good pose_detection.tflite || ! has_good pose_landmark_full.tflite; then
    tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
    echo "fetch-weights: downloading the mediapipe==0.10.14 wheel from PyPI"
    python3 -m pip download --quiet --no-deps --only-binary=:all: \
        --python-version 3.11 --platform manylinux2014_x86_64 \
        mediapipe==0.10.14 -d "$tmp"
    wheel=$(ls "$tmp"/mediapipe-0.10.14-*.whl)
    python3 - "$wheel" "$tmp" <<'PY'
import sys, zipfile
wheel, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z:
    for member in ("mediapipe/modules/pose_detection/pose_detection.tflite",
                   "mediapipe/modules/pose_landmark/pose_landmark_full.tflite"):
        data = z.read(member)
        with open(f"{out}/{member.rsplit('/', 1)[1]}", "wb") as f:
            f.write(data)
PY
    for f in pose_detection.tflite pose_landmark_full.tflite; do
        verify "$tmp/$f" "$f"
        install -m 0644 "$tmp/$f" "$weights/$f"
    done
fi

if ! has_good pose_landmark_lite.tflite; then
    src="$lite_dir/pose_landmark_lite.tflite"
    if [ ! -f "$src" ]; then
        echo "fetch-weights: pose_landmark_lite.tflite not found at $src; pass --lite-dir DIR" >&2
        exit 1
    fi
    verify "$src" pose_landmark_lite.tflite
    install -m 0644 "$src" "$weights/pose_landmark_lite.tflite"
fi

if [ -n "$heavy_file" ]; then
    verify "$heavy_file" pose_landmark_heavy.tflite
    install -m 0644 "$heavy_file" "$weights/pose_landmark_heavy.tflite"
elif ! has_good pose_landmark_heavy.tflite; then
    echo "fetch-weights: heavy model not installed (optional). Official file: $heavy_url"
    echo "  sha256 ${sha[pose_landmark_heavy.tflite]}; install with: Tools/fetch-weights.sh --heavy FILE"
fi

for f in pose_detection.tflite pose_landmark_lite.tflite pose_landmark_full.tflite pose_landmark_heavy.tflite; do
    if [ -f "$weights/$f" ]; then verify "$weights/$f" "$f"; echo "fetch-weights: ok  $f"; fi
done

# Install the verified files where the search order's step 6 (root) or 5 (user) finds them.
if [ "$no_install" = 0 ]; then
    if [ -z "$install_dir" ]; then
        if [ "$(id -u)" = 0 ]; then
            install_dir=/usr/local/share/blazepose/weights
        else
            data_home="${XDG_DATA_HOME:-}"
            case "$data_home" in /*) ;; *) data_home="$HOME/.local/share" ;; esac
            install_dir="$data_home/blazepose/weights"
        fi
    fi
    mkdir -p "$install_dir"
    for f in pose_detection.tflite pose_landmark_lite.tflite pose_landmark_full.tflite pose_landmark_heavy.tflite; do
        [ -f "$weights/$f" ] || continue
        if [ -f "$install_dir/$f" ] && [ "$(sha_of "$install_dir/$f")" = "${sha[$f]}" ]; then
            echo "fetch-weights: ok  $install_dir/$f"
            continue
        fi
        install -m 0644 "$weights/$f" "$install_dir/.$f.partial"
        verify "$install_dir/.$f.partial" "$f"
        mv -f "$install_dir/.$f.partial" "$install_dir/$f"
        echo "fetch-weights: installed $install_dir/$f"
    done
fi
