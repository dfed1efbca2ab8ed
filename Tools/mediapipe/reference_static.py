#!/usr/bin/env python3
"""Reference outputs of mp.solutions.pose (mediapipe 0.10.14) for every fixture image.

Usage:
  Tools/.venv-mediapipe/bin/python Tools/mediapipe/reference_static.py [--kernel9]
      [--images Tests/Fixtures/images] [--out Tests/Fixtures/mediapipe] [--glob '*.png'] [--cv2]

--cv2 loads each image with cv2.imread (BGR->RGB, EXIF orientation applied) instead of Pillow:
the reference for JPEG fixtures is MediaPipe on cv2.imread of the same file
(Tools/mediapipe/make_jpeg_fixtures.py).

Runs Pose(static_image_mode=True, enable_segmentation=True, model_complexity=0 and 1)
with the default confidences (0.5 / 0.5). By default it first imports the refine-landmarks
and segmentation-smoothing option protos so the graph keeps its published options
(heatmap kernel 7, docs/pipeline.md §4.9); with --kernel9 it does not (plain-wheel behaviour, kernel 9)
and writes to <out>-kernel9 unless --out is given.

Writes, per model (lite, full) and image:
  <out>/<model>/<image>.json          see Tools/mediapipe/STAGES.md, "Static references"
  <out>/<model>/<image>.mask.png      8-bit grey, round(mask*255)      (only if a pose was found)
  <out>/<model>/<image>.mask05.png    1-bit, mask > 0.5 (exact threshold side, from float32)
"""
import argparse
import glob
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
import mpgraph  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kernel9", action="store_true")
    ap.add_argument("--images", default=os.path.join(ROOT, "Tests", "Fixtures", "images"))
    ap.add_argument("--out", default=None)
    ap.add_argument("--models", default="lite,full")
    ap.add_argument("--no-mask-files", action="store_true",
                    help="store only mask statistics in the JSON, no PNGs (used for the kernel-9 set: in static "
                         "mode the mask does not depend on the heatmap kernel)")
    ap.add_argument("--glob", default="*.png", help="image file pattern inside --images (default *.png)")
    ap.add_argument("--cv2", action="store_true", help="load images with cv2.imread (orientation applied), not Pillow")
    args = ap.parse_args(argv)
    kernel = mpgraph.select_heatmap_kernel(args.kernel9)
    out_root = args.out or os.path.join(ROOT, "Tests", "Fixtures", "mediapipe" + ("-kernel9" if args.kernel9 else ""))

    import numpy as np
    from PIL import Image
    import mediapipe as mp

    paths = sorted(glob.glob(os.path.join(args.images, args.glob)))
    if not paths:
        raise SystemExit(f"error: no {args.glob} images in {args.images}")
    for model in args.models.split(","):
        odir = os.path.join(out_root, model)
        os.makedirs(odir, exist_ok=True)
        with mp.solutions.pose.Pose(static_image_mode=True, model_complexity=mpgraph.MODEL_COMPLEXITY[model],
                                    enable_segmentation=True, min_detection_confidence=0.5,
                                    min_tracking_confidence=0.5) as pose:
            for path in paths:
                name = os.path.splitext(os.path.basename(path))[0]
                rgb = mpgraph.load_cv2_rgb(path) if args.cv2 else mpgraph.load_rgb(path)
                H, W = rgb.shape[:2]
                # A fresh Pose per image is not needed: static mode never uses the previous frame.
                r = pose.process(rgb)
                found = r.pose_landmarks is not None
                rec = {
                    "image": os.path.basename(path), "image_size": [W, H], "model": model,
                    "mediapipe": mp.__version__, "heatmap_kernel": kernel,
                    "static_image_mode": True, "min_detection_confidence": 0.5,
                    "min_tracking_confidence": 0.5, "pose_found": found,
                }
                for fn in (f"{name}.mask.png", f"{name}.mask05.png"):
                    if os.path.exists(os.path.join(odir, fn)):
                        os.remove(os.path.join(odir, fn))
                if found:
                    # presence is cleared by mp.solutions.pose, so only x, y, z, visibility are stored.
                    rec["landmarks"] = [[l.x, l.y, l.z, l.visibility] for l in r.pose_landmarks.landmark]
                    rec["world_landmarks"] = [[l.x, l.y, l.z, l.visibility] for l in r.pose_world_landmarks.landmark]
                    m = np.asarray(r.segmentation_mask, dtype=np.float32)
                    if m.shape != (H, W):
                        raise SystemExit(f"error: {path}: mask shape {m.shape} != {(H, W)}")
                    rec["mask"] = {"fraction_above_0_5": float(np.mean(m > 0.5)),
                                   "mean": float(m.mean()), "max": float(m.max())}
                    if not args.no_mask_files:
                        Image.fromarray(np.clip(np.rint(m * 255.0), 0, 255).astype(np.uint8), "L").save(
                            os.path.join(odir, f"{name}.mask.png"), optimize=True)
                        Image.fromarray(m > 0.5).save(os.path.join(odir, f"{name}.mask05.png"), optimize=True)
                        rec["mask"].update({"png8": f"{name}.mask.png", "png_threshold_0_5": f"{name}.mask05.png"})
                with open(os.path.join(odir, f"{name}.json"), "w") as f:
                    json.dump(rec, f, separators=(",", ":"))
                print(f"{model:4s} {name:22s} {W}x{H} pose_found={found}"
                      + (f" mask>0.5={rec['mask']['fraction_above_0_5']:.3f}" if found else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
