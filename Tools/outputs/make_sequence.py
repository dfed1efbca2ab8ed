#!/usr/bin/env python3
"""A 640x480 Y4M test video made from the fixture images: N frames (default 300) of a slow
pan/zoom over Tests/Fixtures/images/astronaut.png, then hopper.png, with 10 grey no-person frames
in the middle. Written as C420jpeg, BT.601 limited range (what `blazepose track` reads).

usage: make_sequence.py OUT.y4m [FRAMES]   (needs numpy and opencv: $(bash Tools/mediapipe/venv.sh | tail -1))
"""
import math
import sys
from pathlib import Path

import cv2
import numpy as np

root = Path(__file__).resolve().parents[2]
out, frames = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 300
W, H = 640, 480
sources = [cv2.cvtColor(cv2.imread(str(root / f"Tests/Fixtures/images/{name}.png")), cv2.COLOR_BGR2RGB)
           for name in ("astronaut", "hopper")]
with open(out, "wb") as f:
    f.write(f"YUV4MPEG2 W{W} H{H} F30:1 Ip A1:1 C420jpeg\n".encode())
    for k in range(frames):
        t = k / max(frames - 1, 1)
        if abs(k - frames // 2) < 5:
            rgb = np.full((H, W, 3), 128, np.uint8)
        else:
            src = sources[0] if k < frames // 2 else sources[1]
            h, w = src.shape[:2]
            scale = H / h * (1.0 + 0.25 * math.sin(2 * math.pi * t))
            angle = 8 * math.sin(4 * math.pi * t)
            m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, scale)
            m[0, 2] += W / 2 - w / 2 + 60 * math.sin(2 * math.pi * t * 3)
            m[1, 2] += H / 2 - h / 2
            rgb = cv2.warpAffine(src, m, (W, H), flags=cv2.INTER_LINEAR, borderValue=(40, 40, 40))
        f.write(b"FRAME\n")
        f.write(cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV_I420).tobytes())
print(f"{out}: {frames} frames {W}x{H}")
