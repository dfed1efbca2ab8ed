#!/usr/bin/env python3
"""How much does MediaPipe's own video mode move when its input changes imperceptibly?

Usage:
  Tools/.venv-mediapipe/bin/python Tools/mediapipe/video_sensitivity.py [--models lite,full]
      [--pixel X,Y] [--every-frame] [--verbose]

Runs MediaPipe 0.10.14's video-mode graph (as video_reference.py: kernel 7, ratio 0.7, smoothing on)
twice over the test sequence of video_make_sequence.py: once on the frames as they are, once with
ONE pixel of frame 0 changed by one grey level (default pixel (0, 0), in the black border, far from
the person; --pixel X,Y picks another; --every-frame changes that pixel in every frame, which
mimics a re-implementation whose arithmetic differs a little on every frame). Everything downstream of frame 0 is the tracker's own feedback loop (ROI from the previous
frame's landmarks). Prints, per frame and overall, the mean landmark distance in pixels and the mean
world-landmark distance in mm between the two MediaPipe runs, plus the ROI difference.

This measures the loop's sensitivity to ~1e-6-sized perturbations, i.e. what any re-implementation
whose float arithmetic is not bit-identical to MediaPipe's (XNNPACK) must expect when compared
frame by frame with MediaPipe's free-running tracker.
"""
import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
import mpgraph  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--images", default=os.path.join(ROOT, "Tests", "Fixtures", "images"))
    ap.add_argument("--models", default="lite,full")
    ap.add_argument("--verbose", action="store_true", help="print every frame")
    ap.add_argument("--pixel", default="0,0", help="X,Y of the pixel to change (red channel, value xor 1)")
    ap.add_argument("--every-frame", action="store_true", help="change the pixel in every frame, not only frame 0")
    args = ap.parse_args(argv)
    mpgraph.select_heatmap_kernel(False)
    import numpy as np
    import video_make_sequence as seq
    import video_reference as ref

    frames, doc = seq.build(args.images)
    W, H = doc["width"], doc["height"]
    px_x, px_y = (int(v) for v in args.pixel.split(","))
    if not (0 <= px_x < W and 0 <= px_y < H):
        raise SystemExit(f"error: --pixel {args.pixel} outside the {W}x{H} frame")
    perturbed = [f.copy() for f in frames]
    for k in (range(len(frames)) if args.every_frame else [0]):
        perturbed[k][px_y, px_x, 0] = np.uint8(int(perturbed[k][px_y, px_x, 0]) ^ 1)
    for model in args.models.split(","):
        a = ref.run_graph(frames, model, doc["timestamp_step_us"])
        b = ref.run_graph(perturbed, model, doc["timestamp_step_us"])
        px, mm = [], []
        for ra, rb in zip(a, b):
            if ra["pose_found"] != rb["pose_found"]:
                print(f"{model} frame {ra['frame']}: pose found {ra['pose_found']} vs {rb['pose_found']}")
                continue
            if not ra["pose_found"]:
                continue
            la, lb = np.array(ra["landmarks"])[:, :2] * [W, H], np.array(rb["landmarks"])[:, :2] * [W, H]
            wa, wb = np.array(ra["world_landmarks"])[:, :3], np.array(rb["world_landmarks"])[:, :3]
            e = float(np.linalg.norm(la - lb, axis=1).mean())
            w = float(np.linalg.norm(wa - wb, axis=1).mean() * 1000)
            px.append(e)
            mm.append(w)
            if args.verbose:
                droi = float(np.max(np.abs(np.array(ra["roi"]) - np.array(rb["roi"]))))
                print(f"{model} frame {ra['frame']:2d}: landmarks {e:8.4f} px  world {w:8.3f} mm  ROI {droi:.2e}")
        where = "every frame" if args.every_frame else "frame 0"
        print(f"{model}: MediaPipe vs MediaPipe with pixel ({px_x}, {px_y}) of {where} changed by 1 grey level: "
              f"mean landmark distance {np.mean(px):.3f} px (worst frame {np.max(px):.3f}), "
              f"world {np.mean(mm):.3f} mm (worst {np.max(mm):.3f}) over {len(px)} frames with a pose")
    return 0


if __name__ == "__main__":
    sys.exit(main())
