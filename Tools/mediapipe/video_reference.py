#!/usr/bin/env python3
"""MediaPipe 0.10.14 video-mode reference over the synthetic tracking sequence.

Usage:
  Tools/.venv-mediapipe/bin/python Tools/mediapipe/video_reference.py
      [--sequence Tests/Fixtures/video/sequence.json] [--out Tests/Fixtures/video] [--models lite,full]

Regenerates the frames of `video_make_sequence.py` (and checks their SHA-256 against sequence.json),
then, per model, runs MediaPipe's own PoseLandmarkCpu graph configured exactly as
`mp.solutions.pose.Pose(static_image_mode=False, smooth_landmarks=True, enable_segmentation=True,
smooth_segmentation=True, model_complexity=0|1)` configures it (the refine-landmarks and
segmentation-smoothing option protos are imported first: heatmap kernel 7, mask ratio 0.7), frames
stamped 33333 us apart like the solution API. Internal streams are observed to record, per frame,
whether the detector ran (a packet on `posedetectioncpu__unfiltered_detections`, emitted, possibly
empty, exactly when the detector sub-graph ran), the presence score and the ROI used. The same frames
then go through `mp.solutions.pose` in the same process and its final outputs must equal the graph's
bit for bit (the script fails otherwise), so the recorded streams are those of the solution API.

Writes `<out>/<model>.jsonl`: line 1 is `{"meta": {...}}`; then one line per frame:
  {"frame": k, "timestamp_us": t, "detector_ran": bool, "detections": n | null,
   "presence": score | null, "roi": [xc, yc, w, h, rot] | null,   # ROI the landmark model ran on
   "pose_found": bool,
   "landmarks": [[x, y, z, visibility] x 33],     # pose_landmarks (filtered), image-normalized
   "world_landmarks": [[x, y, z, visibility] x 33],
   "auxiliary": [[x, y, z, visibility] x 2],      # filtered aux landmarks
   "next_roi": [xc, yc, w, h, rot],               # pose_rect_from_landmarks (next frame's ROI)
   "unfiltered_landmarks": [[x, y, z, visibility, presence] x 33],   # before smoothing (graph stream)
   "unfiltered_world_landmarks": [[x, y, z] x 33],                   # vis/presence = unfiltered_landmarks'
   "unfiltered_auxiliary": [[x, y, z, visibility, presence] x 2],
   "mask": {"mean": m, "fraction_above_0_5": f[, "bits_above_0_5": base64 of packbits(mask > 0.5)]}}
Landmark and mask entries exist only when pose_found. The thresholded mask bitmap (row-major, MSB
first, numpy packbits) is stored for a few frames only (MASK_BITMAP_FRAMES).
"""
import argparse
import base64
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
import mpgraph  # noqa: E402

MASK_BITMAP_FRAMES = (0, 5, 21, 26, 27, 47)

STREAMS = {
    "detections": "posedetectioncpu__unfiltered_detections",
    "roi_from_detection": "pose_rect_from_detection",
    "presence": "poselandmarkbyroicpu__tensorstoposelandmarksandsegmentation__pose_presence_score",
    "landmarks": "pose_landmarks",
    "world_landmarks": "pose_world_landmarks",
    "auxiliary": "auxiliary_landmarks",
    "next_roi": "pose_rect_from_landmarks",
    "mask": "segmentation_mask",
    "unfiltered_landmarks": "unfiltered_pose_landmarks",
    "unfiltered_world_landmarks": "unfiltered_world_landmarks",
    "unfiltered_auxiliary": "unfiltered_auxiliary_landmarks",
}


def f32(v):
    """A float32 value as the Python float with the shortest decimal that round-trips in float32
    (keeps the files compact; parsing it back to float32 gives the same value)."""
    import numpy as np
    return float(repr(np.float32(v)))


def rect_list(r):
    return [f32(v) for v in (r.x_center, r.y_center, r.width, r.height, r.rotation)]


def rows4(lst):
    return [[f32(l.x), f32(l.y), f32(l.z), f32(l.visibility)] for l in lst.landmark]


def rows5(lst):
    return [[f32(l.x), f32(l.y), f32(l.z), f32(l.visibility), f32(l.presence)] for l in lst.landmark]


def rows3(lst):
    return [[f32(l.x), f32(l.y), f32(l.z)] for l in lst.landmark]


def run_graph(frames, model, step_us):
    """Returns one dict per frame of the observed streams (raw packets converted to python)."""
    import numpy as np
    from mediapipe.python import packet_creator, packet_getter
    from mediapipe.python._framework_bindings import calculator_graph, image_frame

    cfg, side = mpgraph.build_graph(model, tap=False)
    kernel = mpgraph.configured_kernel_size(cfg)
    if kernel != 7:
        raise SystemExit(f"error: graph config has heatmap kernel {kernel}, expected 7")
    # Video mode, exactly mp.solutions.pose's side packets for static_image_mode=False.
    side.update({"smooth_landmarks": ("bool", True), "smooth_segmentation": ("bool", True),
                 "use_prev_landmarks": ("bool", True), "enable_segmentation": ("bool", True)})
    graph = calculator_graph.CalculatorGraph(graph_config=cfg)
    got = {}

    def observer(name):
        def cb(stream, packet):
            if not packet.is_empty():
                got.setdefault(packet.timestamp.value, {})[name] = packet
        return cb

    for name, stream in STREAMS.items():
        graph.observe_output_stream(stream, observer(name), True)
    graph.start_run({k: (packet_creator.create_int(v) if t == "int" else packet_creator.create_bool(v))
                     for k, (t, v) in side.items()})
    out = []
    prev_next_roi = None
    for k, rgb in enumerate(frames):
        ts = step_us * (k + 1)
        graph.add_packet_to_input_stream(
            stream="image",
            packet=packet_creator.create_image_frame(image_format=image_frame.ImageFormat.SRGB, data=rgb).at(ts))
        graph.wait_until_idle()
        p = got.get(ts, {})
        rec = {"frame": k, "timestamp_us": ts, "detector_ran": "detections" in p}
        rec["detections"] = len(packet_getter.get_proto_list(p["detections"])) if "detections" in p else None
        rec["presence"] = f32(packet_getter.get_float(p["presence"])) if "presence" in p else None
        if "roi_from_detection" in p:
            rec["roi"] = rect_list(packet_getter.get_proto(p["roi_from_detection"]))
        elif not rec["detector_ran"] and prev_next_roi is not None:
            rec["roi"] = prev_next_roi
        else:
            rec["roi"] = None
        rec["pose_found"] = "landmarks" in p
        if rec["pose_found"]:
            rec["landmarks"] = rows4(packet_getter.get_proto(p["landmarks"]))
            rec["world_landmarks"] = rows4(packet_getter.get_proto(p["world_landmarks"]))
            rec["auxiliary"] = rows4(packet_getter.get_proto(p["auxiliary"]))
            rec["next_roi"] = rect_list(packet_getter.get_proto(p["next_roi"]))
            # Inputs of the smoothing stage (docs/pipeline.md §2.17): what the landmark model produced on `roi`.
            rec["unfiltered_landmarks"] = rows5(packet_getter.get_proto(p["unfiltered_landmarks"]))
            rec["unfiltered_world_landmarks"] = rows3(packet_getter.get_proto(p["unfiltered_world_landmarks"]))
            rec["unfiltered_auxiliary"] = rows5(packet_getter.get_proto(p["unfiltered_auxiliary"]))
            m = np.array(packet_getter.get_image_frame(p["mask"]).numpy_view(), dtype=np.float32)
            m = m.reshape(rgb.shape[0], rgb.shape[1])
            rec["_mask"] = m
            rec["mask"] = {"mean": float(m.mean()), "fraction_above_0_5": float(np.mean(m > 0.5))}
            if k in MASK_BITMAP_FRAMES:
                rec["mask"]["bits_above_0_5"] = base64.b64encode(np.packbits(m > 0.5).tobytes()).decode()
        prev_next_roi = rec.get("next_roi")
        out.append(rec)
    graph.close()
    return out


def verify_solution(frames, model, records):
    """mp.solutions.pose in video mode over the same frames must reproduce the graph's outputs exactly."""
    import numpy as np
    import mediapipe as mp
    worst = 0.0
    with mp.solutions.pose.Pose(static_image_mode=False, model_complexity=mpgraph.MODEL_COMPLEXITY[model],
                                smooth_landmarks=True, enable_segmentation=True, smooth_segmentation=True,
                                min_detection_confidence=0.5, min_tracking_confidence=0.5) as pose:
        for rgb, rec in zip(frames, records):
            r = pose.process(rgb)
            found = r.pose_landmarks is not None
            if found != rec["pose_found"]:
                raise SystemExit(f"error: frame {rec['frame']}: solution pose_found={found}, graph={rec['pose_found']}")
            if not found:
                continue
            diffs = [np.max(np.abs(np.array(rows4(r.pose_landmarks)) - np.array(rec["landmarks"]))),
                     np.max(np.abs(np.array(rows4(r.pose_world_landmarks)) - np.array(rec["world_landmarks"]))),
                     np.max(np.abs(np.asarray(r.segmentation_mask, dtype=np.float32) - rec["_mask"]))]
            worst = max(worst, float(max(diffs)))
    if worst != 0.0:
        raise SystemExit(f"error: mp.solutions.pose differs from the observed graph by {worst}")
    return "EXACT (landmarks, world landmarks, masks on every frame)"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--images", default=os.path.join(ROOT, "Tests", "Fixtures", "images"))
    ap.add_argument("--sequence", default=os.path.join(ROOT, "Tests", "Fixtures", "video", "sequence.json"))
    ap.add_argument("--out", default=os.path.join(ROOT, "Tests", "Fixtures", "video"))
    ap.add_argument("--models", default="lite,full")
    args = ap.parse_args(argv)
    mpgraph.select_heatmap_kernel(False)  # kernel 7 / ratio 0.7: import the option protos first
    import hashlib
    import mediapipe as mp
    import video_make_sequence as seq

    frames, doc = seq.build(args.images)
    with open(args.sequence) as f:
        committed = json.load(f)
    for fr, rec in zip(frames, committed["frames"]):
        if hashlib.sha256(fr.tobytes()).hexdigest() != rec["sha256"]:
            raise SystemExit(f"error: frame {rec['index']} differs from {args.sequence}; re-run video_make_sequence.py")
    step = committed["timestamp_step_us"]
    for model in args.models.split(","):
        records = run_graph(frames, model, step)
        verification = verify_solution(frames, model, records)
        meta = {"meta": {
            "producer": f"mediapipe {mp.__version__} (video_reference.py)", "model": model,
            "sequence": os.path.relpath(args.sequence, ROOT), "frame_count": len(frames),
            "image_size": [doc["width"], doc["height"]], "heatmap_kernel": 7, "segmentation_smoothing_ratio": 0.7,
            "static_image_mode": False, "smooth_landmarks": True, "enable_segmentation": True,
            "smooth_segmentation": True, "min_detection_confidence": 0.5, "min_tracking_confidence": 0.5,
            "timestamp_step_us": step, "mask_bitmap_frames": list(MASK_BITMAP_FRAMES),
            "verification_vs_solution_api": verification}}
        path = os.path.join(args.out, f"{model}.jsonl")
        with open(path, "w") as f:
            f.write(json.dumps(meta, separators=(",", ":")) + "\n")
            for rec in records:
                rec.pop("_mask", None)
                f.write(json.dumps(rec, separators=(",", ":")) + "\n")
        ran = [r["frame"] for r in records if r["detector_ran"]]
        found = sum(r["pose_found"] for r in records)
        print(f"{model}: {len(records)} frames, pose on {found}, detector ran on frames {ran}; "
              f"solution API check: {verification} -> {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
