#!/usr/bin/env python3
"""Builds the shared fixture images in Tests/Fixtures/images/ and Samples/.

Sources are public-domain images that ship inside PyPI packages (installed in the
venv made by Tools/mediapipe/venv.sh), so nothing is fetched from anywhere else:
  * scikit-image  skimage/data/astronaut.png   (NASA photo of Eileen Collins, public domain)
  * scikit-image  skimage/data/chelsea.png     (a cat: no person)
  * scikit-image  skimage/data/coffee.png      (a cup of coffee: no person)
  * matplotlib    mpl-data/sample_data/grace_hopper.jpg (US Navy photo, public domain)

Usage:  Tools/.venv-mediapipe/bin/python Tools/mediapipe/make_images.py
Writes 8-bit RGB PNGs. Deterministic for a given Pillow version (all
transforms are exact pixel permutations except scale and the 20-degree rotation).
"""
import os
import sys

import matplotlib
import numpy as np
import skimage
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
OUT = os.path.join(ROOT, "Tests", "Fixtures", "images")
SAMPLES = os.path.join(ROOT, "Samples")

# Long side of the base person images. 384 keeps the whole fixture set small
# (PNG of a photo costs ~1.5 bytes/pixel) while the person stays far above the
# detector's 224-px input, so nothing interesting is lost.
BASE_LONG_SIDE = 384


def load_rgb(path):
    img = Image.open(path)
    return img.convert("RGB")


def fit_long_side(img, long_side):
    w, h = img.size
    s = long_side / max(w, h)
    if s >= 1:
        return img
    # LANCZOS: a proper anti-aliased downscale so the fixtures look like camera images.
    return img.resize((round(w * s), round(h * s)), Image.LANCZOS)


def pad(img, left, top, right, bottom, color=(0, 0, 0)):
    w, h = img.size
    canvas = Image.new("RGB", (w + left + right, h + top + bottom), color)
    canvas.paste(img, (left, top))
    return canvas


def save(img, name, folder=OUT):
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, name + ".png")
    img.save(path, optimize=True)
    return path


def main():
    skdata = os.path.join(os.path.dirname(skimage.__file__), "data")
    mpldata = os.path.join(os.path.dirname(matplotlib.__file__), "mpl-data", "sample_data")

    astronaut_full = load_rgb(os.path.join(skdata, "astronaut.png"))  # 512x512
    hopper_full = load_rgb(os.path.join(mpldata, "grace_hopper.jpg"))  # 512x600

    astronaut = fit_long_side(astronaut_full, BASE_LONG_SIDE)
    hopper = fit_long_side(hopper_full, BASE_LONG_SIDE)
    w, h = astronaut.size

    images = {
        # name: (image, description)
        "astronaut": (astronaut, "skimage astronaut, 384x384, upper body"),
        "astronaut_rot90cw": (astronaut.transpose(Image.ROTATE_270), "rotated 90 deg clockwise (head points right)"),
        "astronaut_rot90ccw": (astronaut.transpose(Image.ROTATE_90), "rotated 90 deg anticlockwise (head points left)"),
        # PIL rotates anticlockwise for positive angles; -20 = 20 deg clockwise. Canvas expanded, black fill.
        "astronaut_rot20": (astronaut.rotate(-20, resample=Image.BILINEAR, expand=True, fillcolor=(0, 0, 0)),
                            "rotated 20 deg clockwise, canvas expanded, black corners"),
        "astronaut_mirror": (astronaut.transpose(Image.FLIP_LEFT_RIGHT), "mirrored left-right"),
        "astronaut_half": (astronaut.resize((w // 2, h // 2), Image.LANCZOS), "scaled x0.5 (192x192)"),
        # Landscape letterbox-ish: wide black side borders plus a thin top/bottom grey border.
        "astronaut_padded": (pad(astronaut, 160, 24, 96, 8, (40, 40, 40)), "asymmetric grey border, landscape 640x416"),
        # Upper-body crop: head and shoulders only (hips out of frame), portrait.
        "astronaut_crop": (astronaut.crop((60, 0, 300, 260)), "crop of head and shoulders, 240x260"),
        "hopper": (hopper, "matplotlib grace_hopper, 328x384 portrait, upper body"),
        "hopper_rot90cw": (hopper.transpose(Image.ROTATE_270), "rotated 90 deg clockwise"),
        # Wide landscape letterbox (like the spec's 760x540 test) with black bars.
        "hopper_letterbox": (pad(hopper, 160, 0, 160, 0), "black bars left/right, landscape 648x384"),
        "chelsea_nocat": (fit_long_side(load_rgb(os.path.join(skdata, "chelsea.png")), 256),
                          "skimage chelsea (a cat), no person"),
        "coffee_noperson": (fit_long_side(load_rgb(os.path.join(skdata, "coffee.png")), 256),
                            "skimage coffee cup, no person"),
    }
    total = 0
    for name, (img, desc) in images.items():
        path = save(img, name)
        size = os.path.getsize(path)
        total += size
        print(f"{name:22s} {img.size[0]:4d}x{img.size[1]:<4d} {size/1024:7.1f} KB  {desc}")
    print(f"total {total/1024:.1f} KB in {OUT}")

    # README quick-start sample: the full-resolution astronaut.
    p = save(astronaut_full, "astronaut", SAMPLES)
    print(f"sample {p} {os.path.getsize(p)/1024:.1f} KB")


if __name__ == "__main__":
    sys.exit(main())
