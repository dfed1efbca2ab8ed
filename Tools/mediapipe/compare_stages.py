#!/usr/bin/env python3
"""Compares two per-stage dumps (layout: Tools/mediapipe/STAGES.md).

Usage:
  python3 Tools/mediapipe/compare_stages.py --ours DIR_A --ref DIR_B [--tol STAGE=VALUE ...] [--json]

Needs numpy only (any Python 3 with numpy; the MediaPipe venv has it).
For every stage present in both dumps it prints the largest absolute difference, the
per-stage tolerance and OK / DIVERGED, then the first stage (in pipeline order) that
diverged. Stages present in only one dump are listed as missing, not as divergent.
Exit code: 0 if no compared stage diverged, 1 otherwise, 2 on bad input.
"""
import argparse
import json
import math
import os
import sys

import numpy as np

# Pipeline order and default absolute tolerances. The 8-bit/float input tensors must match
# exactly (tolerance 0): they are produced by deterministic resampling, not by float GEMMs.
# Model outputs get float32-accumulation-order slack; geometry stages get ~1e-4 normalized.
STAGE_ORDER = [
    ("detector_input_u8", 0.0),
    ("detector_input", 0.0),
    ("detector_raw_boxes", 5e-3),       # 224-px units
    ("detector_raw_scores", 5e-3),      # logits
    ("detections_before_nms", 1e-4),
    ("detections_after_nms", 1e-4),
    ("detections_unletterboxed", 1e-4),
    ("detection", 1e-4),
    ("roi_alignment", 1e-4),
    ("roi", 1e-4),
    ("landmark_input_u8", 0.0),
    ("landmark_input", 0.0),
    ("landmark_raw_landmarks", 5e-3),   # 256-px units
    ("landmark_raw_poseflag", 1e-4),
    ("landmark_raw_world", 1e-4),       # metres
    ("landmark_raw_heatmap", 5e-3),     # logits
    ("landmark_raw_segmentation", 5e-3),  # logits
    ("pose_presence", 1e-4),
    ("landmarks_decoded", 1e-4),
    ("landmarks_refined", 1e-4),
    ("landmarks_projected", 1e-4),
    ("auxiliary_projected", 1e-4),
    ("world_landmarks", 1e-4),
    ("mask_roi", 1e-3),
    ("mask", 5e-2),                    # OpenCV's 1/32-px warp: rare pixels differ by ~0.02 (see STAGES.md)
    ("landmarks_final", 1e-4),
    ("world_landmarks_final", 1e-4),
    ("auxiliary_filtered", 1e-4),
    ("roi_from_landmarks", 1e-4),
]
KNOWN = dict(STAGE_ORDER)


class BadInput(Exception):
    pass


def load_manifest(d):
    p = os.path.join(d, "manifest.json")
    try:
        with open(p) as f:
            m = json.load(f)
    except FileNotFoundError:
        raise BadInput(f"{p}: missing (not a stage dump directory?)")
    except json.JSONDecodeError as e:
        raise BadInput(f"{p}: invalid JSON: {e}")
    if not isinstance(m.get("stages"), dict):
        raise BadInput(f"{p}: no 'stages' object")
    return m


def load_stage(d, name, entry):
    if not isinstance(entry, dict) or "file" not in entry:
        raise BadInput(f"{d}/manifest.json: stage {name}: entry has no 'file'")
    p = os.path.join(d, entry["file"])
    try:
        if entry.get("format") == "npy" or p.endswith(".npy"):
            return np.load(p, allow_pickle=False)
        with open(p) as f:
            return json.load(f)
    except FileNotFoundError:
        raise BadInput(f"{p}: listed in manifest but missing")
    except (ValueError, json.JSONDecodeError) as e:
        raise BadInput(f"{p}: unreadable: {e}")


def angle_diff(a, b):
    d = (a - b + math.pi) % (2 * math.pi) - math.pi
    return abs(d)


def det_vector(d, where):
    try:
        kps = [c for kp in d["keypoints"] for c in kp]
        return np.array([d["score"], d["xmin"], d["ymin"], d["width"], d["height"], *kps], dtype=np.float64)
    except (KeyError, TypeError) as e:
        raise BadInput(f"{where}: malformed detection: {e}")


def compare(name, a, b):
    """Returns (max_abs_diff, detail). max_abs_diff is inf for structural mismatches."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        if not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)):
            return math.inf, "one side is not an array"
        if a.shape != b.shape:
            return math.inf, f"shape {list(a.shape)} vs {list(b.shape)}"
        d = np.abs(a.astype(np.float64) - b.astype(np.float64))
        if d.size == 0:
            return 0.0, "empty"
        idx = np.unravel_index(int(np.argmax(d)), d.shape)
        detail = (f"mean {d.mean():.3g}, {int(np.count_nonzero(d))}/{d.size} differ, "
                  f"worst at {list(map(int, idx))}")
        if name.startswith("mask"):
            detail += f", threshold-0.5 flips {int(np.count_nonzero((a > 0.5) != (b > 0.5)))}"
        return float(d.max()), detail
    if name.startswith("detections_"):
        if not isinstance(a, list) or not isinstance(b, list):
            return math.inf, "not a list"
        if len(a) != len(b):
            return math.inf, f"count {len(a)} vs {len(b)}"
        if not a:
            return 0.0, "both empty"
        m = max(float(np.max(np.abs(det_vector(x, name) - det_vector(y, name)))) for x, y in zip(a, b))
        return m, f"{len(a)} detections"
    if name == "detection":
        return float(np.max(np.abs(det_vector(a, name) - det_vector(b, name)))), ""
    if name.startswith("roi"):
        try:
            m = max(abs(a[k] - b[k]) for k in ("x_center", "y_center", "width", "height"))
            r = angle_diff(a["rotation"], b["rotation"])
        except (KeyError, TypeError) as e:
            raise BadInput(f"{name}: malformed rect: {e}")
        return max(m, r), f"rotation diff {r:.3g}"
    if name == "pose_presence":
        try:
            if bool(a["present"]) != bool(b["present"]):
                return math.inf, f"present {a['present']} vs {b['present']}"
            return abs(a["score"] - b["score"]), ""
        except (KeyError, TypeError) as e:
            raise BadInput(f"{name}: malformed: {e}")
    # landmark lists: [[x, y, z, visibility, presence], ...]
    try:
        aa, bb = np.array(a, dtype=np.float64), np.array(b, dtype=np.float64)
    except (ValueError, TypeError):
        return math.inf, "not a numeric table"
    if aa.shape != bb.shape:
        return math.inf, f"shape {list(aa.shape)} vs {list(bb.shape)}"
    if aa.size == 0:
        return 0.0, "empty"
    d = np.abs(aa - bb)
    r, c = np.unravel_index(int(np.argmax(d)), d.shape)
    return float(d.max()), f"worst landmark {int(r)} column {int(c)}"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ours", required=True)
    ap.add_argument("--ref", required=True)
    ap.add_argument("--tol", action="append", default=[], metavar="STAGE=VALUE")
    ap.add_argument("--json", action="store_true", help="print a JSON report instead of a table")
    args = ap.parse_args(argv)
    tol = dict(KNOWN)
    for t in args.tol:
        k, sep, v = t.partition("=")
        if not sep or k not in tol:
            print(f"error: --tol {t!r}: expected STAGE=VALUE with STAGE one of {', '.join(tol)}", file=sys.stderr)
            return 2
        try:
            tol[k] = float(v)
        except ValueError:
            print(f"error: --tol {t!r}: {v!r} is not a number", file=sys.stderr)
            return 2
    try:
        ma, mb = load_manifest(args.ours), load_manifest(args.ref)
        rows = []
        for name, _ in STAGE_ORDER:
            ina, inb = name in ma["stages"], name in mb["stages"]
            if not ina and not inb:
                continue
            if not (ina and inb):
                rows.append({"stage": name, "status": "missing in " + ("ref" if ina else "ours")})
                continue
            a = load_stage(args.ours, name, ma["stages"][name])
            b = load_stage(args.ref, name, mb["stages"][name])
            diff, detail = compare(name, a, b)
            rows.append({"stage": name, "max_abs_diff": diff, "tolerance": tol[name],
                         "status": "OK" if diff <= tol[name] else "DIVERGED", "detail": detail})
        unknown = sorted(set(ma["stages"]) - set(KNOWN)) + sorted(set(mb["stages"]) - set(KNOWN))
    except BadInput as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    first = next((r["stage"] for r in rows if r["status"] == "DIVERGED"), None)
    if first is None and ma.get("pose_found") != mb.get("pose_found"):
        first = "pose_found"  # e.g. one side stopped at the presence gate; every compared stage agreed
    report = {"ours": args.ours, "ref": args.ref,
              "pose_found": [ma.get("pose_found"), mb.get("pose_found")],
              "image_size": [ma.get("image_size"), mb.get("image_size")],
              "stages": rows, "first_diverged": first, "unknown_stages_ignored": unknown}
    if args.json:
        print(json.dumps(report, indent=1))
    else:
        if ma.get("image_size") != mb.get("image_size"):
            print(f"warning: image sizes differ: {ma.get('image_size')} vs {mb.get('image_size')}")
        print(f"pose_found: ours={ma.get('pose_found')} ref={mb.get('pose_found')}")
        print(f"{'stage':26s} {'max|diff|':>11s} {'tol':>8s}  status    detail")
        for r in rows:
            if "max_abs_diff" in r:
                print(f"{r['stage']:26s} {r['max_abs_diff']:11.4g} {r['tolerance']:8.2g}  {r['status']:9s} {r['detail']}")
            else:
                print(f"{r['stage']:26s} {'':11s} {'':8s}  {r['status']}")
        if unknown:
            print("ignored unknown stages: " + ", ".join(unknown))
        print("first diverged stage: " + (first or "none"))
    return 1 if first else 0


if __name__ == "__main__":
    sys.exit(main())
