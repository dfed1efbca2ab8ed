#!/usr/bin/env python3
"""Generates bit-exact reference cases for PoseImage's OpenCV-compatible warps.

Each perspective case follows MediaPipe's ImageToTensorConverter (OpenCV backend) call sequence:
  angle = float(rotation * 180.f / M_PI); cv::boxPoints(RotatedRect(center, size, angle));
  cv::getPerspectiveTransform(corners -> (0,H),(0,0),(W,0),(W,H)); cv::warpPerspective(INTER_LINEAR, border)
Each mask case follows MediaPipe's AffineTransformation OpenCV runner (segmentation warp-back):
  M = diag(maskW, maskH,1,1) * T * diag(1/outW, 1/outH,1,1) (float32), cv::warpAffine(INTER_LINEAR|WARP_INVERSE_MAP,
  BORDER_CONSTANT) on a CV_32FC1 mask.
All ROI/matrix numbers are float32 and stored as their bit patterns so Swift reads the same values.

Run: $(bash Tools/opencv/venv.sh | tail -1) Tools/opencv/make_warp_cases.py
Output: Tests/ImageTests/Fixtures/warp_cases.json
"""
import base64, json, math, os
import numpy as np
import cv2

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "ImageTests", "Fixtures", "warp_cases.json")
rng = np.random.default_rng(7)
f32 = np.float32


def bits(values):
    return [int(np.array(v, dtype=np.float32).view(np.uint32)) for v in values]


def b64(arr):
    return base64.b64encode(np.ascontiguousarray(arr).tobytes()).decode()


def smooth_image(w, h):
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    img = np.stack([128 + 100 * np.sin(xx / 7.0 + yy / 11.0), 128 + 100 * np.cos(xx / 5.0 - yy / 9.0),
                    (xx * 3 + yy * 2) % 256], axis=-1)
    img += rng.normal(0, 12, img.shape)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def perspective_case(name, img, roi, out_w, out_h, border):
    cx, cy, w, h, rot = (f32(v) for v in roi)
    angle = float(f32(float(f32(rot * f32(180.0))) / math.pi))  # float*float, /double, back to float
    corners = cv2.boxPoints(((float(cx), float(cy)), (float(w), float(h)), angle))
    dst = np.array([[0, out_h], [0, 0], [out_w, 0], [out_w, out_h]], dtype=np.float32)
    m = cv2.getPerspectiveTransform(corners, dst)
    mode = cv2.BORDER_CONSTANT if border == "zero" else cv2.BORDER_REPLICATE
    out = cv2.warpPerspective(img, m, (out_w, out_h), flags=cv2.INTER_LINEAR, borderMode=mode, borderValue=0)
    assert out.shape == (out_h, out_w, 3) and out.dtype == np.uint8
    return {"name": name, "imageWidth": img.shape[1], "imageHeight": img.shape[0], "image": b64(img),
            "roiBits": bits([cx, cy, w, h, rot]), "outputWidth": out_w, "outputHeight": out_h,
            "border": border, "matrix": [float(v) for v in m.reshape(-1)], "expected": b64(out)}


def pattern_image(w, h):
    """Deterministic integer pattern, regenerated identically by the Swift test (no pixels stored)."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.int64)
    chans = [(xx * 7 + yy * 13 + c * 71 + (xx * yy) % 251 + ((xx // 9 + yy // 7) % 2) * 90) & 255 for c in range(3)]
    return np.stack(chans, axis=-1).astype(np.uint8)


def fnv1a64(data):
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def hashed_case(name, w, h, roi, out_w, out_h, border):
    case = perspective_case(name, pattern_image(w, h), roi, out_w, out_h, border)
    out = base64.b64decode(case["expected"])
    return {"name": name, "imageWidth": w, "imageHeight": h, "roiBits": case["roiBits"], "outputWidth": out_w,
            "outputHeight": out_h, "border": border, "matrix": case["matrix"], "fnv1a64": str(fnv1a64(out)),
            "byteSum": int(np.frombuffer(out, dtype=np.uint8).astype(np.int64).sum())}


def rect_to_image_matrix(cx, cy, w, h, rot, img_w, img_h):
    """MediaPipe GetRotatedSubRectToRectTransformMatrix-like forward matrix (float32, row-major 4x4):
    maps rect-normalized (u, v) to image-normalized coordinates."""
    a, b = math.cos(rot), math.sin(rot)
    m = np.eye(4, dtype=np.float64)
    m[0, 0], m[0, 1], m[0, 3] = w * a / img_w, -h * b / img_w, (-0.5 * w * a + 0.5 * h * b + cx) / img_w
    m[1, 0], m[1, 1], m[1, 3] = w * b / img_h, h * a / img_h, (-0.5 * w * b - 0.5 * h * a + cy) / img_h
    return m


def mask_case(name, mask_w, mask_h, out_w, out_h, rect):
    mask = rng.random((mask_h, mask_w)).astype(np.float32)
    mask[0, 0], mask[-1, -1] = 0.0, 1.0
    forward = rect_to_image_matrix(*rect, out_w, out_h)
    t = np.linalg.inv(forward).astype(np.float32)  # image-normalized -> mask-normalized
    sx, sy = f32(1.0) * f32(mask_w), f32(1.0) * f32(mask_h)
    nx, ny = f32(1.0) / f32(out_w), f32(1.0) / f32(out_h)
    row = [sx, sy, f32(1), f32(1)]
    col = [nx, ny, f32(1), f32(1)]
    absolute = np.array([[f32(f32(row[r] * t[r, c]) * col[c]) for c in range(4)] for r in range(4)], dtype=np.float32)
    affine = np.array([[absolute[0, 0], absolute[0, 1], absolute[0, 3]],
                       [absolute[1, 0], absolute[1, 1], absolute[1, 3]]], dtype=np.float32)
    out = cv2.warpAffine(mask, affine, (out_w, out_h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                         borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    assert out.dtype == np.float32 and out.shape == (out_h, out_w)
    return {"name": name, "maskWidth": mask_w, "maskHeight": mask_h, "mask": b64(mask),
            "matrixBits": bits(t.reshape(-1)), "outputWidth": out_w, "outputHeight": out_h, "expected": b64(out)}


def main():
    perspective = []
    for i in range(60):
        iw, ih = int(rng.integers(1, 40)), int(rng.integers(1, 40))
        if i < 3:
            iw, ih = [(1, 1), (1, 5), (37, 23)][i]
        img = rng.integers(0, 256, size=(ih, iw, 3), dtype=np.uint8)
        kind = i % 4
        if kind == 0:  # inside, random rotation
            roi = (rng.uniform(0, iw), rng.uniform(0, ih), rng.uniform(1, iw + 1), rng.uniform(1, ih + 1), rng.uniform(-math.pi, math.pi))
        elif kind == 1:  # partially / fully outside
            roi = (rng.uniform(-iw, 2 * iw), rng.uniform(-ih, 2 * ih), rng.uniform(1, 2 * iw + 2), rng.uniform(1, 2 * ih + 2), rng.uniform(-4, 4))
        elif kind == 2:  # letterbox-like: whole image padded to a square, no rotation
            side = max(iw, ih)
            roi = (iw / 2, ih / 2, side, side, 0.0)
        else:  # strong down/upscale, small rotation
            roi = (rng.uniform(0, iw), rng.uniform(0, ih), rng.uniform(0.5, 3 * iw + 1), rng.uniform(0.5, 3 * ih + 1), rng.uniform(-0.3, 0.3))
        out_w, out_h = int(rng.integers(1, 72)), int(rng.integers(1, 30))
        border = "zero" if i % 2 == 0 else "replicate"
        perspective.append(perspective_case(f"random{i}_{iw}x{ih}_{border}", img, roi, out_w, out_h, border))
    # Realistic: MediaPipe detector letterbox (224, zero) and landmark crops (256, replicate).
    big = smooth_image(128, 96)
    perspective.append(perspective_case("detector_letterbox_224", big, (64, 48, 128, 128, 0.0), 224, 224, "zero"))
    perspective.append(perspective_case("landmark_crop_256_rotated", big, (62.5, 51.25, 81.7, 81.7, 0.4363), 256, 256, "replicate"))
    perspective.append(perspective_case("landmark_crop_128_edge", big, (120.3, 10.7, 70.2, 70.2, -2.9), 128, 128, "replicate"))

    masks = []
    for i in range(8):
        mw, mh = int(rng.integers(2, 40)), int(rng.integers(2, 40))
        ow, oh = int(rng.integers(1, 80)), int(rng.integers(1, 60))
        rect = (rng.uniform(-5, ow + 5), rng.uniform(-5, oh + 5), rng.uniform(3, 2 * ow + 4), rng.uniform(3, 2 * oh + 4), rng.uniform(-3.2, 3.2))
        masks.append(mask_case(f"mask_random{i}", mw, mh, ow, oh, rect))
    masks.append(mask_case("mask_realistic_64_to_120x90", 64, 64, 120, 90, (62.0, 44.0, 80.0, 80.0, 0.3)))

    # Value transform: convertTo(CV_32F, scale, offset) on every byte value, reached through
    # cv2.normalize(NORM_MINMAX) on a 0..255 ramp (scale = (max-min)/255 in double, then float).
    ramp = np.arange(256, dtype=np.uint8).reshape(1, -1)
    value = []
    for lo, hi in ((-1.0, 1.0), (0.0, 1.0)):
        out = cv2.normalize(ramp, None, lo, hi, cv2.NORM_MINMAX, dtype=cv2.CV_32F).reshape(-1)
        value.append({"rangeMin": lo, "rangeMax": hi, "expected": b64(out.astype(np.float32))})

    # Camera-sized sources, outputs checked by hash to keep the fixture small.
    hashed = [
        hashed_case("vga_detector_letterbox_224", 640, 480, (320, 240, 640, 640, 0.0), 224, 224, "zero"),
        hashed_case("vga_landmark_crop_256", 640, 480, (301.7, 222.9, 377.3, 377.3, -0.61), 256, 256, "replicate"),
        hashed_case("hd_portrait_letterbox_224", 720, 1280, (360, 640, 1280, 1280, 0.0), 224, 224, "zero"),
        hashed_case("hd_landmark_crop_256_outside", 720, 1280, (690.2, 80.4, 702.9, 702.9, 2.71), 256, 256, "replicate"),
    ]

    data = {"opencv": cv2.__version__, "perspective": perspective, "mask": masks, "valueTransform": value,
            "hashed": hashed}
    with open(OUT, "w") as fh:
        json.dump(data, fh, separators=(",", ":"))
    print("opencv", cv2.__version__, "perspective cases", len(perspective), "mask cases", len(masks),
          "bytes", os.path.getsize(OUT))


if __name__ == "__main__":
    main()
