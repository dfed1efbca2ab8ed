#!/usr/bin/env python3
"""Wall time of mp.solutions.pose (mediapipe 0.10.14) on one image, static-image mode.

Usage:
  Tools/.venv-mediapipe/bin/python Tools/mediapipe/time_static.py IMAGE --model lite|full
      [--runs 30] [--warmup 3] [--segmentation]

Prints:
  init   time to construct Pose() (graph set-up, model loading)
  cold   the first process() call (includes lazy interpreter/XNNPACK set-up)
  warm   median / min / max of --runs further process() calls after --warmup calls
Each process() in static mode runs the full detector + landmark pipeline (no tracking).
Image decoding is not timed. Segmentation is off unless --segmentation (as in `blazepose detect`
without a mask); say which when comparing.
"""
import argparse
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import mpgraph  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("image")
    ap.add_argument("--model", choices=["lite", "full"], required=True)
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--segmentation", action="store_true")
    ap.add_argument("--kernel9", action="store_true")
    args = ap.parse_args(argv)
    if args.runs < 1 or args.warmup < 0:
        ap.error("--runs must be >= 1 and --warmup >= 0")
    mpgraph.select_heatmap_kernel(args.kernel9)
    import mediapipe as mp

    rgb = mpgraph.load_rgb(args.image)
    t0 = time.perf_counter()
    pose = mp.solutions.pose.Pose(static_image_mode=True, model_complexity=mpgraph.MODEL_COMPLEXITY[args.model],
                                  enable_segmentation=args.segmentation)
    t1 = time.perf_counter()
    r = pose.process(rgb)
    t2 = time.perf_counter()
    for _ in range(args.warmup):
        pose.process(rgb)
    times = []
    for _ in range(args.runs):
        a = time.perf_counter()
        pose.process(rgb)
        times.append(time.perf_counter() - a)
    pose.close()
    ms = [t * 1000 for t in times]
    h, w = rgb.shape[:2]
    print(f"mediapipe {mp.__version__} {args.model} {os.path.basename(args.image)} {w}x{h} "
          f"segmentation={args.segmentation} pose_found={r.pose_landmarks is not None} cpus={os.cpu_count()}")
    print(f"init {1000 * (t1 - t0):.1f} ms")
    print(f"cold {1000 * (t2 - t1):.1f} ms (first process)")
    print(f"warm median {statistics.median(ms):.2f} ms  min {min(ms):.2f}  max {max(ms):.2f}  "
          f"(runs={args.runs}, warmup={args.warmup})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
