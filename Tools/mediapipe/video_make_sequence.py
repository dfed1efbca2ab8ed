#!/usr/bin/env python3
"""Builds the synthetic tracking test sequence (no video is committed, only matrices and hashes).

Usage:
  Tools/.venv-mediapipe/bin/python Tools/mediapipe/video_make_sequence.py
      [--out Tests/Fixtures/video/sequence.json] [--frames-dir DIR] [--y4m FILE]

The sequence is a pan / zoom / roll / slight-perspective camera move over the fixture
`Tests/Fixtures/images/astronaut.png`, with a few plain grey frames (no person) in the middle so
that pose loss and re-detection are exercised:

  frames  0..21   astronaut, moving camera
  frames 22..25   uniform grey (128, 128, 128): the tracked ROI's presence fails, the detector finds nothing
  frames 26..47   astronaut again, camera continues: the detector must pick the person up again

Every frame is `cv2.warpPerspective(source, M, (W, H), INTER_LINEAR, BORDER_CONSTANT 0)` of one
source fixture with a per-frame forward matrix M (source pixels -> frame pixels); grey frames have
source "gray128" and no matrix. The JSON stores, per frame, the source, M as 9 float64 values (written with repr(), which round-trips
exactly; also as IEEE-754 bit patterns in hex), and the SHA-256 of the frame's raw RGB bytes
(HWC, row-major). The Swift tests regenerate each frame with
`PoseImage.warpPerspectiveRGB8(image:forward:outputWidth:outputHeight:border: .zero)`, which
reproduces OpenCV 4.x's warpPerspective byte for byte, and check the hashes.

OpenCV version: this venv's cv2 (4.11) is used; the ImageTests show 4.10 == 4.12 for these warps
and the Swift hash check in Tests/PoseTests/TrackingSequenceTests.swift proves the frames match.
"""
import argparse
import hashlib
import json
import math
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)

WIDTH, HEIGHT = 320, 240
FRAME_COUNT = 48
NO_PERSON = range(22, 26)
PERSON_SOURCE = "astronaut.png"
# Not coffee_noperson.png: on it the full model's presence stays > 0.5 in a tracked ROI (it
# "tracks" a phantom person through the cup), so no loss would happen with model full.
EMPTY_SOURCE = "gray128"
GRAY = 128
# The Python solution API stamps frame k (0-based) at 33333 * (k + 1) microseconds.
STEP_US = 33333


def person_matrix(k, src_w, src_h):
    """Forward homography for frame k: the source's corners pushed through a smooth
    similarity (zoom, roll, pan) plus a small keystone, then solved with getPerspectiveTransform."""
    import numpy as np
    import cv2
    t = k / (FRAME_COUNT - 1)
    scale = 0.56 + 0.10 * math.sin(math.pi * t)            # source 384 px -> 215..253 px
    roll = math.radians(10.0 * math.sin(2 * math.pi * t))   # camera roll, +-10 degrees
    cx = WIDTH / 2 + 34.0 * math.sin(2 * math.pi * 0.8 * t)  # horizontal pan
    cy = HEIGHT / 2 + 6.0 * math.cos(2 * math.pi * t)
    keystone = 0.05 * math.sin(2 * math.pi * 1.3 * t)         # top edge narrower/wider
    c, s = math.cos(roll), math.sin(roll)
    src = np.float32([[0, 0], [src_w, 0], [src_w, src_h], [0, src_h]])
    dst = []
    for (x, y) in src:
        lx, ly = (x - src_w / 2) * scale, (y - src_h / 2) * scale
        # keystone: shrink the top edge, widen the bottom edge (proportional to vertical position)
        lx *= 1.0 + keystone * (ly / (src_h * scale / 2))
        dst.append([cx + c * lx - s * ly, cy + s * lx + c * ly])
    return cv2.getPerspectiveTransform(src, np.float32(dst)).astype(np.float64)


def f64_hex(v):
    return struct.pack(">d", float(v)).hex()


def build(images_dir):
    """Returns (frames as list of HxWx3 uint8 RGB arrays, JSON record)."""
    import numpy as np
    import cv2
    import mpgraph
    person = mpgraph.load_rgb(os.path.join(images_dir, PERSON_SOURCE))
    frames, records = [], []
    for k in range(FRAME_COUNT):
        rec = {"index": k, "timestamp_us": STEP_US * (k + 1)}
        if k in NO_PERSON:
            frame = np.full((HEIGHT, WIDTH, 3), GRAY, dtype=np.uint8)
            rec.update({"source": EMPTY_SOURCE, "matrix": None, "matrix_f64_hex": None})
        else:
            h, w = person.shape[:2]
            m = person_matrix(k, w, h)
            frame = cv2.warpPerspective(person, m, (WIDTH, HEIGHT), flags=cv2.INTER_LINEAR,
                                        borderMode=cv2.BORDER_CONSTANT, borderValue=0)
            rec.update({"source": PERSON_SOURCE, "matrix": [float(v) for v in m.reshape(9)],
                        "matrix_f64_hex": [f64_hex(v) for v in m.reshape(9)]})
        frame = np.ascontiguousarray(frame)
        frames.append(frame)
        rec["sha256"] = hashlib.sha256(frame.tobytes()).hexdigest()
        records.append(rec)
    doc = {
        "description": "pan/zoom/roll/keystone over astronaut.png with uniform grey (128) frames 22-25; "
                       "frame = cv2.warpPerspective(source, matrix, (width, height), INTER_LINEAR, "
                       "BORDER_CONSTANT 0); sha256 over raw RGB bytes (HWC)",
        "generator": "Tools/mediapipe/video_make_sequence.py",
        "opencv": cv2.__version__,
        "width": WIDTH, "height": HEIGHT, "frame_count": FRAME_COUNT,
        "timestamp_step_us": STEP_US,
        "sources_dir": "Tests/Fixtures/images",
        "frames": records,
    }
    return frames, doc


def write_y4m(path, frames, fps=30):
    """4:4:4 Y4M (C444) with BT.601 limited-range YCbCr (lossy: for CLI/throughput runs only)."""
    import numpy as np
    h, w = frames[0].shape[:2]
    with open(path, "wb") as f:
        f.write(f"YUV4MPEG2 W{w} H{h} F{fps}:1 Ip A1:1 C444\n".encode())
        for fr in frames:
            rgb = fr.astype(np.float64)
            r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
            y = 16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255
            cb = 128 + (-37.797 * r - 74.203 * g + 112.0 * b) / 255
            cr = 128 + (112.0 * r - 93.786 * g - 18.214 * b) / 255
            f.write(b"FRAME\n")
            for plane in (y, cb, cr):
                f.write(np.clip(np.rint(plane), 0, 255).astype(np.uint8).tobytes())


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--images", default=os.path.join(ROOT, "Tests", "Fixtures", "images"))
    ap.add_argument("--out", default=os.path.join(ROOT, "Tests", "Fixtures", "video", "sequence.json"))
    ap.add_argument("--frames-dir", help="also write the frames as PNGs (frame_000.png, ...)")
    ap.add_argument("--y4m", help="also write the frames as a 4:4:4 Y4M file at 30 fps")
    args = ap.parse_args(argv)
    frames, doc = build(args.images)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    if args.frames_dir:
        from PIL import Image
        os.makedirs(args.frames_dir, exist_ok=True)
        for k, fr in enumerate(frames):
            Image.fromarray(fr, "RGB").save(os.path.join(args.frames_dir, f"frame_{k:03d}.png"))
    if args.y4m:
        write_y4m(args.y4m, frames)
    print(f"{len(frames)} frames {WIDTH}x{HEIGHT} -> {args.out}"
          + (f", PNGs in {args.frames_dir}" if args.frames_dir else "") + (f", {args.y4m}" if args.y4m else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
