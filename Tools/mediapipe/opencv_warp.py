#!/usr/bin/env python3
"""Bit-exact numpy model of MediaPipe's ImageToTensor resampling (OpenCV warpPerspective,
INTER_LINEAR, 8-bit fixed point), written so that the Swift port can follow it line by line.

Usage:
  Tools/.venv-mediapipe/bin/python Tools/mediapipe/opencv_warp.py --selftest [--random N] [--dumps DIR...]
    1. every committed/regenerated MediaPipe u8 tensor (detector and landmark crop) is rebuilt
       from the fixture image and the dumped ROI and compared with MediaPipe's (must be 0 diff);
    2. N random rotated ROIs per fixture image are compared with cv2.warpPerspective itself.

The algorithm (MediaPipe image_to_tensor_converter_opencv.cc + OpenCV imgwarp.cpp, learnt from
their behaviour; no code copied):
  a. ROI in pixels (float32): cx = xc*W, cy = yc*H, w = wn*W, h = hn*H, then PadRoi to the tensor
     aspect ratio (keep_aspect_ratio). angle_deg = float32(rotation * 180 / pi).
  b. Corners (RotatedRect::points, float32): b = float(cos(angle))*0.5, a = float(sin(angle))*0.5,
     p0 = (cx - a*h - b*w, cy + b*h - a*w), p1 = (cx + a*h - b*w, cy - b*h - a*w),
     p2 = 2c - p0, p3 = 2c - p1. They map to tensor corners (0,T), (0,0), (T,0), (T,T).
  c. M = perspective transform src->dst: 8x8 system whose -x*u entries are float32 products, solved
     in double by Gaussian elimination in OpenCV's order (lu_solve); then Minv = closed-form 3x3
     inverse (double). The exact operation order matters: rare sample positions fall on a .5 tie
     of the 1/32 grid, where 1 ulp in Minv picks the neighbour pixel.
  d. For tensor pixel (x, y) (integers), with xb = 64*(x div 64) and x1 = x - xb (OpenCV's blocks):
     X0 = (Minv[0,0]*xb + Minv[0,1]*y) + Minv[0,2], likewise Y0 (row 1) and W0 (row 2), all double;
     w = W0 + Minv[2,0]*x1; w = 32/w (0 if w == 0);
     X = rint((X0 + Minv[0,0]*x1) * w), Y = rint((Y0 + Minv[1,0]*x1) * w)   (round half to even)
     sx = X >> 5, sy = Y >> 5 (arithmetic shift = floor), fx = X & 31, fy = Y & 31.
  e. Weights (exact integers): w00 = (32-fx)(32-fy), w01 = fx(32-fy), w10 = (32-fx)fy, w11 = fx*fy
     (sum 1024). p = (S[sy,sx]*w00 + S[sy,sx+1]*w01 + S[sy+1,sx]*w10 + S[sy+1,sx+1]*w11 + 512) >> 10
     (OpenCV scales the weights by 32 and shifts by 15 with rounding 1<<14: identical).
  f. Taps outside the image: BORDER_CONSTANT (detector) reads 0; BORDER_REPLICATE (landmark crop)
     clamps the tap coordinate to [0, W-1] x [0, H-1].
  g. Value transform in float32 with one rounding: v = fma(p, scale, offset)
     (detector: scale 2/255, offset -1; landmarks: scale 1/255, offset 0).
"""
import argparse
import glob
import json
import math
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)


def pad_roi(w, h, tw, th):
    """MediaPipe PadRoi with keep_aspect_ratio (float32). Returns padded (w, h)."""
    w, h = np.float32(w), np.float32(h)
    ta = np.float32(th) / np.float32(tw)
    ra = h / w
    if ta > ra:
        return w, w * ta
    return h / ta, h


def corners(cx, cy, w, h, angle_deg):
    f = np.float32
    ang = float(angle_deg) * math.pi / 180.0
    b = f(math.cos(ang)) * f(0.5)
    a = f(math.sin(ang)) * f(0.5)
    cx, cy, w, h = f(cx), f(cy), f(w), f(h)
    p0 = (cx - a * h - b * w, cy + b * h - a * w)
    p1 = (cx + a * h - b * w, cy - b * h - a * w)
    p2 = (f(2) * cx - p0[0], f(2) * cy - p0[1])
    p3 = (f(2) * cx - p1[0], f(2) * cy - p1[1])
    return np.array([p0, p1, p2, p3], dtype=np.float32)


def lu_solve(A, b):
    """Gaussian elimination with partial pivoting in the exact operation order of OpenCV's LU
    (cv::solve DECOMP_LU): pivot = first row with the largest |value| (strict >), rows below updated
    with A[j,c] += alpha*A[i,c], alpha = A[j,i] * (-1/pivot) (separate multiply and add, no FMA);
    back substitution s = b[i] - A[i,k]*x[k] for k ascending, x[i] = s / A[i,i] (a division).
    Plain Python floats (double). Verified to reproduce cv2.getPerspectiveTransform bit for bit."""
    A = [list(map(float, r)) for r in A]
    b = [float(v) for v in b]
    m = len(A)
    for i in range(m):
        k = i
        for j in range(i + 1, m):
            if abs(A[j][i]) > abs(A[k][i]):
                k = j
        if abs(A[k][i]) < 2.220446049250313e-16 * 10:
            raise ValueError("singular perspective system")
        if k != i:
            A[i], A[k] = A[k], A[i]
            b[i], b[k] = b[k], b[i]
        d = -1.0 / A[i][i]
        for j in range(i + 1, m):
            alpha = A[j][i] * d
            for c in range(i + 1, m):
                A[j][c] += alpha * A[i][c]
            b[j] += alpha * b[i]
    for i in range(m - 1, -1, -1):
        s_ = b[i]
        for c in range(i + 1, m):
            s_ -= A[i][c] * b[c]
        b[i] = s_ / A[i][i]
    return b


def perspective(src, dst):
    """3x3 matrix mapping src -> dst (both [4,2] float32), as cv::getPerspectiveTransform builds it:
    the products -x*u are float32 products (Point2f arithmetic) widened to double."""
    f = np.float32
    A = [[0.0] * 8 for _ in range(8)]
    B = [0.0] * 8
    for i in range(4):
        x, y, u, v = f(src[i, 0]), f(src[i, 1]), f(dst[i, 0]), f(dst[i, 1])
        A[i][0] = A[i + 4][3] = float(x)
        A[i][1] = A[i + 4][4] = float(y)
        A[i][2] = A[i + 4][5] = 1.0
        A[i][6] = float(-x * u)
        A[i][7] = float(-y * u)
        A[i + 4][6] = float(-x * v)
        A[i + 4][7] = float(-y * v)
        B[i], B[i + 4] = float(u), float(v)
    m = lu_solve(A, B)
    return np.array(m + [1.0]).reshape(3, 3)


def invert3(m):
    """Closed-form 3x3 inverse (what cv::invert does for 3x3 with DECOMP_LU)."""
    a = m
    d = (a[0, 0] * (a[1, 1] * a[2, 2] - a[1, 2] * a[2, 1])
         - a[0, 1] * (a[1, 0] * a[2, 2] - a[1, 2] * a[2, 0])
         + a[0, 2] * (a[1, 0] * a[2, 1] - a[1, 1] * a[2, 0]))
    if d == 0:
        return np.zeros((3, 3))
    d = 1.0 / d
    t = np.empty((3, 3))
    t[0, 0] = (a[1, 1] * a[2, 2] - a[1, 2] * a[2, 1]) * d
    t[0, 1] = (a[0, 2] * a[2, 1] - a[0, 1] * a[2, 2]) * d
    t[0, 2] = (a[0, 1] * a[1, 2] - a[0, 2] * a[1, 1]) * d
    t[1, 0] = (a[1, 2] * a[2, 0] - a[1, 0] * a[2, 2]) * d
    t[1, 1] = (a[0, 0] * a[2, 2] - a[0, 2] * a[2, 0]) * d
    t[1, 2] = (a[0, 2] * a[1, 0] - a[0, 0] * a[1, 2]) * d
    t[2, 0] = (a[1, 0] * a[2, 1] - a[1, 1] * a[2, 0]) * d
    t[2, 1] = (a[0, 1] * a[2, 0] - a[0, 0] * a[2, 1]) * d
    t[2, 2] = (a[0, 0] * a[1, 1] - a[0, 1] * a[1, 0]) * d
    return t


def warp_u8(img, cx, cy, w, h, angle_deg, size, replicate):
    """img: [H,W,C] uint8 (HWC). Returns [size,size,C] uint8 — the 8-bit warp output."""
    H, W = img.shape[:2]
    src = corners(cx, cy, w, h, angle_deg)
    T = float(size)
    dst = np.array([[0, T], [0, 0], [T, 0], [T, T]], dtype=np.float32)
    mi = invert3(perspective(src, dst))
    # OpenCV walks the output in blocks of 64 columns x 16 rows (BLOCK_SZ 32: bh0 = 16, bw0 = 1024/16);
    # the row terms are evaluated once per block at its first column xb, then x1 = x - xb is added.
    # The grouping changes the double rounding, so it is reproduced exactly.
    ys = np.arange(size, dtype=np.float64)[:, None]
    xs = np.arange(size)
    xb = ((xs // 64) * 64).astype(np.float64)[None, :]
    x1 = (xs % 64).astype(np.float64)[None, :]
    X0 = mi[0, 0] * xb + mi[0, 1] * ys + mi[0, 2]
    Y0 = mi[1, 0] * xb + mi[1, 1] * ys + mi[1, 2]
    W0 = mi[2, 0] * xb + mi[2, 1] * ys + mi[2, 2]
    ww = W0 + mi[2, 0] * x1
    with np.errstate(divide="ignore"):
        ww = np.where(ww != 0, 32.0 / ww, 0.0)
    X = np.rint((X0 + mi[0, 0] * x1) * ww).astype(np.int64)
    Y = np.rint((Y0 + mi[1, 0] * x1) * ww).astype(np.int64)
    sx, sy, fx, fy = X >> 5, Y >> 5, X & 31, Y & 31
    wts = [((32 - fx) * (32 - fy)), (fx * (32 - fy)), ((32 - fx) * fy), (fx * fy)]
    acc = np.zeros((size, size, img.shape[2]), dtype=np.int64)
    for k, (dx, dy) in enumerate(((0, 0), (1, 0), (0, 1), (1, 1))):
        tx, ty = sx + dx, sy + dy
        if replicate:
            v = img[np.clip(ty, 0, H - 1), np.clip(tx, 0, W - 1)].astype(np.int64)
        else:
            inside = (tx >= 0) & (tx < W) & (ty >= 0) & (ty < H)
            v = img[np.clip(ty, 0, H - 1), np.clip(tx, 0, W - 1)].astype(np.int64) * inside[..., None]
        acc += v * wts[k][..., None]
    return np.clip((acc + 512) >> 10, 0, 255).astype(np.uint8)


def warp_affine_inverse_f32(src, A, out_w, out_h):
    """cv::warpAffine(src, A, (out_w, out_h), INTER_LINEAR | WARP_INVERSE_MAP, BORDER_CONSTANT 0) for a
    float32 single-channel image, as MediaPipe's WarpAffineCalculator uses it for the segmentation mask.
    A: [2,3] float32, maps output pixel (x, y) to source pixel coordinates.
    Coordinates are fixed point (AB_BITS 10) and then quantised to 1/32 px:
      adelta[x] = rint(A00*x*1024), bdelta[x] = rint(A10*x*1024)          (double, round half even)
      X0 = rint((A01*y + A02)*1024) + 16,  Y0 = rint((A11*y + A12)*1024) + 16
      X = (X0 + adelta[x]) >> 5,  Y = (Y0 + bdelta[x]) >> 5                 (arithmetic shifts)
      sx = X >> 5, fx = X & 31 (same for y); weights (1-fx/32)(1-fy/32), (fx/32)(1-fy/32), ... (exact floats)
      out = ((S00*w00 + S01*w01) + S10*w10) + S11*w11 in float32, taps outside the source read 0."""
    A = np.asarray(A, dtype=np.float32).astype(np.float64)
    Hs, Ws = src.shape
    xs = np.arange(out_w, dtype=np.float64)
    ys = np.arange(out_h, dtype=np.float64)[:, None]
    adelta = np.rint(A[0, 0] * xs * 1024).astype(np.int64)[None, :]
    bdelta = np.rint(A[1, 0] * xs * 1024).astype(np.int64)[None, :]
    X0 = np.rint((A[0, 1] * ys + A[0, 2]) * 1024).astype(np.int64) + 16
    Y0 = np.rint((A[1, 1] * ys + A[1, 2]) * 1024).astype(np.int64) + 16
    X = (X0 + adelta) >> 5
    Y = (Y0 + bdelta) >> 5
    sx, sy = X >> 5, Y >> 5
    fx = (X & 31).astype(np.float32) / np.float32(32)
    fy = (Y & 31).astype(np.float32) / np.float32(32)
    one = np.float32(1)
    w = [(one - fy) * (one - fx), (one - fy) * fx, fy * (one - fx), fy * fx]
    acc = None
    for k, (dx, dy) in enumerate(((0, 0), (1, 0), (0, 1), (1, 1))):
        tx, ty = sx + dx, sy + dy
        inside = (tx >= 0) & (tx < Ws) & (ty >= 0) & (ty < Hs)
        v = np.where(inside, src[np.clip(ty, 0, Hs - 1), np.clip(tx, 0, Ws - 1)], np.float32(0)).astype(np.float32)
        term = (v * w[k]).astype(np.float32)
        acc = term if acc is None else (acc + term).astype(np.float32)
    return acc


def mask_matrix_from_roi(roi, W, H, Wm, Hm):
    """[2,3] float32 matrix (image pixel -> mask-grid pixel) for warp_affine_inverse_f32, from the ROI
    (docs/pipeline.md §2.16), computed in double and rounded once. MediaPipe builds it in float32 through a 4x4
    matrix, its Eigen inverse and two 4x4 products, so a few entries differ by ulps; see STAGES.md."""
    f = np.float32
    cx, cy = float(f(roi["x_center"]) * f(W)), float(f(roi["y_center"]) * f(H))
    rw, rh = pad_roi(f(roi["width"]) * f(W), f(roi["height"]) * f(H), Wm, Hm)
    rw, rh = float(rw), float(rh)
    c, s_ = math.cos(roi["rotation"]), math.sin(roi["rotation"])
    return np.array([[Wm * c / rw, Wm * s_ / rw, Wm * (0.5 - (c * cx + s_ * cy) / rw)],
                     [-Hm * s_ / rh, Hm * c / rh, Hm * (0.5 - (-s_ * cx + c * cy) / rh)]], dtype=np.float32)


def detector_tensor_u8(img):
    H, W = img.shape[:2]
    pw, ph = pad_roi(W, H, 224, 224)
    return warp_u8(img, np.float32(W) / np.float32(2), np.float32(H) / np.float32(2), pw, ph, 0.0, 224, False)


def landmark_tensor_u8(img, roi):
    H, W = img.shape[:2]
    f = np.float32
    cx, cy = f(roi["x_center"]) * f(W), f(roi["y_center"]) * f(H)
    pw, ph = pad_roi(f(roi["width"]) * f(W), f(roi["height"]) * f(H), 256, 256)
    # C++: roi.rotation * 180.f / M_PI  -> float product, then a double division, stored as float.
    angle = f(float(f(roi["rotation"]) * f(180.0)) / math.pi)
    return warp_u8(img, cx, cy, pw, ph, angle, 256, True)


def selftest(random_n, extra_dumps):
    import cv2
    import mpgraph
    failures = 0
    dumps = sorted(glob.glob(os.path.join(ROOT, "Tests/Fixtures/stages/*/*/detector_input_u8.npy")))
    for root in extra_dumps:  # more dumps written with stages.py --u8
        dumps += sorted(glob.glob(os.path.join(root, "**", "detector_input_u8.npy"), recursive=True))
    for p in dumps:
        d = os.path.dirname(p)
        m = json.load(open(os.path.join(d, "manifest.json")))
        img = mpgraph.load_rgb(os.path.join(ROOT, "Tests/Fixtures/images", m["image"]))
        det = detector_tensor_u8(img)
        n1 = int(np.count_nonzero(det != np.load(p)))
        n2 = -1
        if os.path.exists(os.path.join(d, "landmark_input_u8.npy")):
            lm = landmark_tensor_u8(img, json.load(open(os.path.join(d, "roi.json"))))
            n2 = int(np.count_nonzero(lm != np.load(os.path.join(d, "landmark_input_u8.npy"))))
        print(f"vs MediaPipe {os.path.relpath(d, ROOT)}: detector {n1} values differ, landmark crop {n2} differ")
        failures += (n1 != 0) + (n2 > 0)
    masks = []
    for root in extra_dumps:
        masks += sorted(glob.glob(os.path.join(root, "**", "mask_roi.npy"), recursive=True))
    for p in masks:
        d = os.path.dirname(p)
        if not os.path.exists(os.path.join(d, "mask.npy")):
            continue
        m = json.load(open(os.path.join(d, "manifest.json")))
        W, H = m["image_size"]
        mr = np.load(p)
        ref = np.load(os.path.join(d, "mask.npy"))
        ours = warp_affine_inverse_f32(mr, mask_matrix_from_roi(json.load(open(os.path.join(d, "roi.json"))),
                                                               W, H, mr.shape[1], mr.shape[0]), W, H)
        dd = np.abs(ours - ref)
        print(f"mask vs MediaPipe {d}: {int(np.count_nonzero(dd))}/{dd.size} pixels differ, max {dd.max():.3g}, "
              f"threshold-0.5 flips {int(np.count_nonzero((ours > 0.5) != (ref > 0.5)))} (informative, not a failure)")
    rng = np.random.default_rng(1234)
    total = 0
    m_mismatch = 0
    for path in sorted(glob.glob(os.path.join(ROOT, "Tests/Fixtures/images/*.png"))):
        img = mpgraph.load_rgb(path)
        H, W = img.shape[:2]
        for _ in range(random_n):
            cx, cy = np.float32(rng.uniform(-0.2, 1.2) * W), np.float32(rng.uniform(-0.2, 1.2) * H)
            side = np.float32(rng.uniform(0.1, 2.5) * max(W, H))
            ang = np.float32(rng.uniform(-180, 180))
            size = int(rng.choice([224, 256]))
            rep = bool(rng.integers(0, 2))
            ours = warp_u8(img, cx, cy, side, side, ang, size, rep)
            rr = ((cx, cy), (side, side), float(ang))
            src = cv2.boxPoints(rr).astype(np.float32)
            dst = np.array([[0, size], [0, 0], [size, 0], [size, size]], dtype=np.float32)
            ref = cv2.warpPerspective(img, cv2.getPerspectiveTransform(src, dst), (size, size),
                                      flags=cv2.INTER_LINEAR,
                                      borderMode=cv2.BORDER_REPLICATE if rep else cv2.BORDER_CONSTANT, borderValue=0)
            n = int(np.count_nonzero(ours != ref))
            total += 1
            if not np.array_equal(perspective(corners(cx, cy, side, side, ang), dst),
                                  cv2.getPerspectiveTransform(src, dst)):
                m_mismatch += 1
            if n:
                failures += 1
                print(f"vs cv2 {os.path.basename(path)} roi=({cx},{cy},{side},{ang}) size={size} "
                      f"replicate={rep}: {n} values differ, max {np.abs(ours.astype(int) - ref).max()}")
    # Float mask warps (warpAffine, inverse map, zero border) vs cv2.
    aff_fail = 0
    for t in range(max(1, random_n)):
        src = rng.random((int(rng.choice([128, 256])),) * 2, dtype=np.float32)
        ang = rng.uniform(-math.pi, math.pi)
        sc = rng.uniform(0.2, 3.0)
        A = np.array([[sc * math.cos(ang), sc * math.sin(ang), rng.uniform(-200, 200)],
                      [-sc * math.sin(ang), sc * math.cos(ang), rng.uniform(-200, 200)]], dtype=np.float32)
        ow_, oh_ = int(rng.integers(100, 700)), int(rng.integers(100, 700))
        ref = cv2.warpAffine(src, A, (ow_, oh_), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                             borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        ours = warp_affine_inverse_f32(src, A, ow_, oh_)
        if not np.array_equal(ref, ours):
            aff_fail += 1
            print(f"warpAffine case {t}: {np.count_nonzero(ref != ours)} values differ, max {np.abs(ref - ours).max():.3g}")
    print(f"float warpAffine vs cv2: {max(1, random_n)} cases, {aff_fail} not bit-identical")
    failures += aff_fail
    print(f"random ROIs vs cv2 {cv2.__version__}: {total} warps, {m_mismatch} perspective matrices not "
          f"bit-identical to cv2.getPerspectiveTransform, {failures} failing cases in total")
    failures += m_mismatch
    return 1 if failures else 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--selftest", action="store_true")
    ap.add_argument("--random", type=int, default=20, help="random ROIs per fixture image (vs cv2)")
    ap.add_argument("--dumps", nargs="*", default=[], help="extra stage-dump roots (stages.py --u8) to check")
    args = ap.parse_args(argv)
    if not args.selftest:
        ap.print_help()
        return 0
    return selftest(args.random, args.dumps)


if __name__ == "__main__":
    sys.exit(main())
