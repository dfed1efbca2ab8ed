#!/usr/bin/env python3
"""Video-mode throughput, MediaPipe 0.10.14 vs our `blazepose track`, on the same frames and model.

Usage:
  Tools/.venv-mediapipe/bin/python Tools/mediapipe/video_throughput.py
      [--models lite,full] [--repeats 3] [--ours .build/release/blazepose] [--threads N] [--segmentation]

Frames: the 48-frame test sequence of `video_make_sequence.py` (320x240, 4 grey no-person frames),
regenerated in memory and written once as PNGs to a temporary folder for our CLI.

MediaPipe: `mp.solutions.pose.Pose(static_image_mode=False, smooth_landmarks=True,
enable_segmentation=False, model_complexity=0|1)` (segmentation off: MediaPipe's default, and
`blazepose track` computes masks only for --mask-dir) with the option protos
imported (kernel 7, ratio 0.7, as the published graph). A fresh `Pose` per repeat (so every repeat
starts with the detector on frame 0, as ours does); one warm-up pass first. Timed: the sum of the
`process()` calls (frame hand-off, graph, result conversion) -> frames/s. The two engines alternate
repeat by repeat (MediaPipe first in even repeats, ours first in odd ones), so a noisy host
slows both alike.

Ours: `blazepose track <png folder> --model M --jsonl /dev/null` (no --mask-dir: no masks).
With --segmentation: MediaPipe `enable_segmentation=True, smooth_segmentation=True` and ours with
`--mask-dir` (a temporary folder; writing the PNGs is outside the timed `process` calls). Its
stderr summary line reports
`processing frames/s`, which times the per-frame `PoseTracker.process` calls only (no PNG decoding,
no model loading), the same scope as MediaPipe's `process()`. The best and median of the repeats are
printed for both.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
import mpgraph  # noqa: E402


def mediapipe_pass(frames, model, segmentation):
    """One pass of MediaPipe over the frames (a fresh `Pose`): frames/s of the `process()` calls."""
    import mediapipe as mp
    with mp.solutions.pose.Pose(static_image_mode=False, model_complexity=mpgraph.MODEL_COMPLEXITY[model],
                                smooth_landmarks=True, enable_segmentation=segmentation,
                                smooth_segmentation=True,
                                min_detection_confidence=0.5, min_tracking_confidence=0.5) as pose:
        total = 0.0
        for rgb in frames:
            t0 = time.perf_counter()
            pose.process(rgb)
            total += time.perf_counter() - t0
    return len(frames) / total


SUMMARY = re.compile(r"processing ([0-9.]+) frames/s")


def ours_pass(binary, folder, model, threads, segmentation):
    """One `blazepose track` process over the frames: its reported processing frames/s."""
    cmd = [binary, "track", folder, "--model", model, "--jsonl", "/dev/null"]
    if threads:
        cmd += ["--threads", str(threads)]
    if segmentation:
        cmd += ["--mask-dir", tempfile.mkdtemp(prefix="blazepose-masks-")]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"error: {' '.join(cmd)} failed ({p.returncode}):\n{p.stderr}")
    m = SUMMARY.search(p.stderr)
    if not m:
        raise SystemExit(f"error: no 'processing … frames/s' in the summary:\n{p.stderr}")
    return float(m.group(1))


def time_both(frames, folder, model, repeats, args):
    """MediaPipe and (with --ours) ours, alternating repeat by repeat (MediaPipe first in even
    repeats, ours first in odd ones), after one warm-up pass of each: frames/s lists."""
    mediapipe_pass(frames, model, args.segmentation)
    if args.ours:
        ours_pass(args.ours, folder, model, args.threads, args.segmentation)
    theirs, ours = [], []
    for rep in range(repeats):
        runs = [lambda: theirs.append(mediapipe_pass(frames, model, args.segmentation))]
        if args.ours:
            runs.append(lambda: ours.append(ours_pass(args.ours, folder, model, args.threads, args.segmentation)))
        for run in (runs if rep % 2 == 0 else runs[::-1]):
            run()
    return theirs, ours


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--images", default=os.path.join(ROOT, "Tests", "Fixtures", "images"))
    ap.add_argument("--models", default="lite,full")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--ours", default=None, help="path of our blazepose binary (omit: MediaPipe only)")
    ap.add_argument("--threads", type=int, default=0, help="--threads for ours (0: its default)")
    ap.add_argument("--segmentation", action="store_true", help="masks on, both sides")
    args = ap.parse_args(argv)
    mpgraph.select_heatmap_kernel(False)
    import video_make_sequence as seq
    frames, doc = seq.build(args.images)
    tmp = None
    if args.ours:
        from PIL import Image
        tmp = tempfile.mkdtemp(prefix="blazepose-seq-")
        for k, fr in enumerate(frames):
            Image.fromarray(fr, "RGB").save(os.path.join(tmp, f"frame_{k:03d}.png"))
    print(f"sequence: {len(frames)} frames {doc['width']}x{doc['height']}, segmentation "
          f"{'on' if args.segmentation else 'off'}, repeats {args.repeats} (+1 warm-up), "
          f"load average {os.getloadavg()[0]:.2f}")
    print(f"{'model':5s} {'engine':10s} {'best fps':>9s} {'median fps':>11s}")
    for model in args.models.split(","):
        theirs, ours = time_both(frames, tmp, model, args.repeats, args)
        rows = [("mediapipe", theirs)] + ([("ours", ours)] if args.ours else [])
        for name, fps in rows:
            print(f"{model:5s} {name:10s} {max(fps):9.1f} {statistics.median(fps):11.1f}")
        if args.ours:
            ratio = statistics.median(rows[1][1]) / statistics.median(rows[0][1])
            print(f"{model:5s} ours/mediapipe (median): {ratio:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
