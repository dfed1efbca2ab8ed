#!/usr/bin/env bash
# Per-stage proof: our `blazepose detect --dump-stages` vs MediaPipe 0.10.14's own graph
# (`stages.py`), for every fixture image and both models (kernel 7 = MediaPipe's graph).
#
#   bash Tools/mediapipe/compare_all_stages.sh [--keep DIR] [IMAGE.png ...]
#
# Per image and model it runs two comparisons with compare_stages.py:
#   e2e  our whole pipeline (our detector → our ROI → our crop → …) vs MediaPipe's;
#   roi  our landmark stage fed MediaPipe's ROI (`detect --roi-json ref/roi.json`): isolates the
#        crop + landmark + projection + mask stages from the detector's float differences.
# and prints the largest difference per stage group, the landmark error in image pixels and the
# first diverging stage; a summary line at the end. Needs the MediaPipe venv
# (bash Tools/mediapipe/venv.sh) and a release build (swift build -c release).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
py=$(bash "$root/Tools/mediapipe/venv.sh" | tail -1)   # creates or reuses the venv
bin="$root/.build/release/blazepose"
keep=""
images=()
while [ $# -gt 0 ]; do
    case "$1" in
        --keep) keep="$2"; shift 2 ;;
        -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
        *) images+=("$1"); shift ;;
    esac
done
[ -x "$py" ] || { echo "compare_all_stages: $py missing; run bash Tools/mediapipe/venv.sh" >&2; exit 2; }
[ -x "$bin" ] || { echo "compare_all_stages: $bin missing; run swift build -c release" >&2; exit 2; }
[ ${#images[@]} -gt 0 ] || images=("$root"/Tests/Fixtures/images/*.png)
work=${keep:-$(mktemp -d)}
mkdir -p "$work"
[ -n "$keep" ] || trap 'rm -rf "$work"' EXIT

for model in lite full; do
    for img in "${images[@]}"; do
        name=$(basename "$img" .png)
        d="$work/$model/$name"
        rm -rf "$d"; mkdir -p "$d"
        "$py" "$root/Tools/mediapipe/stages.py" "$img" --model "$model" --out "$d/ref" --no-verify >"$d/ref.log" 2>&1 \
            || { echo "stages.py failed on $img ($model); see $d/ref.log" >&2; exit 1; }
        "$bin" detect "$img" --model "$model" --weights "$root/weights" --dump-stages "$d/ours" >"$d/ours.log" 2>&1 \
            || { echo "blazepose detect failed on $img ($model); see $d/ours.log" >&2; exit 1; }
        "$py" "$root/Tools/mediapipe/compare_stages.py" --ours "$d/ours" --ref "$d/ref" --json >"$d/e2e.json" || true
        if [ -f "$d/ref/roi.json" ]; then
            "$bin" detect "$img" --model "$model" --weights "$root/weights" --roi-json "$d/ref/roi.json" \
                --dump-stages "$d/ours_roi" >"$d/ours_roi.log" 2>&1 \
                || { echo "blazepose detect --roi-json failed on $img ($model); see $d/ours_roi.log" >&2; exit 1; }
            "$py" "$root/Tools/mediapipe/compare_stages.py" --ours "$d/ours_roi" --ref "$d/ref" --json >"$d/roi.json" || true
        fi
    done
done

"$py" - "$work" <<'PY'
import json, os, sys
import numpy as np
work = sys.argv[1]
groups = [("det_in", ["detector_input_u8", "detector_input"]),
          ("det_raw", ["detector_raw_boxes", "detector_raw_scores"]),
          ("dets", ["detections_before_nms", "detections_after_nms", "detections_unletterboxed", "detection"]),
          ("roi", ["roi_alignment", "roi"]),
          ("crop", ["landmark_input_u8", "landmark_input"]),
          ("lm_raw", ["landmark_raw_landmarks", "landmark_raw_poseflag", "landmark_raw_world",
                      "landmark_raw_heatmap", "landmark_raw_segmentation"]),
          ("lm", ["landmarks_decoded", "landmarks_refined", "landmarks_projected", "auxiliary_projected",
                  "landmarks_final", "auxiliary_filtered", "roi_from_landmarks", "pose_presence"]),
          ("world", ["world_landmarks", "world_landmarks_final"]),
          ("mask", ["mask_roi", "mask"])]

def landmark_px(ours, ref):
    """Mean / max landmark distance in image pixels, from the final landmark stages."""
    try:
        a = np.array(json.load(open(os.path.join(ours, "landmarks_final.json"))), dtype=np.float64)
        b = np.array(json.load(open(os.path.join(ref, "landmarks_final.json"))), dtype=np.float64)
        W, H = json.load(open(os.path.join(ref, "manifest.json")))["image_size"]
    except FileNotFoundError:
        return None
    d = np.hypot((a[:, 0] - b[:, 0]) * W, (a[:, 1] - b[:, 1]) * H)
    return d.mean(), d.max()

totals = {"runs": 0, "e2e_ok": 0, "roi_ok": 0, "det_in_exact": 0, "det_in_n": 0, "crop_exact_roi": 0,
          "crop_n_roi": 0, "crop_exact_e2e": 0, "crop_n_e2e": 0, "pose_agree": 0, "worst_px_e2e": 0.0,
          "crop_worst_samples_e2e": 0, "roi_worst_e2e": 0.0}
for model in ("lite", "full"):
    mdir = os.path.join(work, model)
    if not os.path.isdir(mdir):
        continue
    print(f"== {model} (kernel 7) ==")
    print(f"{'image':20s} {'run':4s} " + " ".join(f"{g:>8s}" for g, _ in groups) + "  lm px mean/max   flips  first diverged")
    for name in sorted(os.listdir(mdir)):
        d = os.path.join(mdir, name)
        totals["runs"] += 1
        for run in ("e2e", "roi"):
            p = os.path.join(d, run + ".json")
            if not os.path.exists(p):
                continue
            rep = json.load(open(p))
            by = {r["stage"]: r for r in rep["stages"]}
            cells = []
            for g, names in groups:
                vals = [by[n]["max_abs_diff"] for n in names if n in by and "max_abs_diff" in by[n]]
                cells.append(f"{max(vals):8.2g}" if vals else f"{'-':>8s}")
            flips = by.get("mask", {}).get("detail", "")
            flips = flips.split("threshold-0.5 flips ")[-1] if "flips" in flips else "-"
            px = landmark_px(os.path.join(d, "ours" if run == "e2e" else "ours_roi"), os.path.join(d, "ref"))
            pxs = f"{px[0]:6.3f}/{px[1]:6.3f}" if px else f"{'-':>13s}"
            pf = rep["pose_found"]
            first = rep["first_diverged"] or "none"
            print(f"{name:20s} {run:4s} " + " ".join(cells) + f"  {pxs:15s} {flips:>5s}  {first}"
                  + ("" if pf[0] == pf[1] else f"  (pose_found ours={pf[0]} ref={pf[1]})"))
            if run == "e2e":
                totals["e2e_ok"] += rep["first_diverged"] is None
                totals["pose_agree"] += pf[0] == pf[1]
                if px:
                    totals["worst_px_e2e"] = max(totals["worst_px_e2e"], px[1])
                if "detector_input" in by and "max_abs_diff" in by["detector_input"]:
                    totals["det_in_n"] += 1
                    totals["det_in_exact"] += by["detector_input"]["max_abs_diff"] == 0
                if "landmark_input" in by and "max_abs_diff" in by["landmark_input"]:
                    totals["crop_n_e2e"] += 1
                    totals["crop_exact_e2e"] += by["landmark_input"]["max_abs_diff"] == 0
                    # detail: "mean …, N/M differ, …" — how many crop samples the ROI difference moved.
                    try:
                        n = int(by["landmark_input"]["detail"].split(" differ")[0].split(", ")[-1].split("/")[0])
                        totals["crop_worst_samples_e2e"] = max(totals["crop_worst_samples_e2e"], n)
                    except (ValueError, IndexError):
                        pass
                if "roi" in by and "max_abs_diff" in by["roi"]:
                    totals["roi_worst_e2e"] = max(totals["roi_worst_e2e"], by["roi"]["max_abs_diff"])
            else:
                totals["roi_ok"] += rep["first_diverged"] is None
                if "landmark_input" in by and "max_abs_diff" in by["landmark_input"]:
                    totals["crop_n_roi"] += 1
                    totals["crop_exact_roi"] += by["landmark_input"]["max_abs_diff"] == 0
t = totals
print(f"SUMMARY: {t['runs']} image×model runs; detector input exact (max diff 0) {t['det_in_exact']}/{t['det_in_n']}; "
      f"crop exact on MediaPipe's ROI {t['crop_exact_roi']}/{t['crop_n_roi']}, end-to-end {t['crop_exact_e2e']}/{t['crop_n_e2e']} "
      f"(our ROI differs by at most {t['roi_worst_e2e']:.2g}, moving at most {t['crop_worst_samples_e2e']} of 196608 crop samples); "
      f"no divergence: roi-fed {t['roi_ok']}/{t['crop_n_roi']}, end-to-end {t['e2e_ok']}/{t['runs']}; "
      f"pose found agrees {t['pose_agree']}/{t['runs']}; worst end-to-end landmark {t['worst_px_e2e']:.3f} px")
PY
