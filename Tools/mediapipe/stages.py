#!/usr/bin/env python3
"""Per-stage capture of MediaPipe 0.10.14's own PoseLandmarkCpu graph on one image.

Usage:
  Tools/.venv-mediapipe/bin/python Tools/mediapipe/stages.py IMAGE --model lite|full --out DIR
      [--kernel9] [--no-big] [--u8] [--cv2] [--no-verify]

Runs the wheel's pose_landmark_cpu.binarypb, expanded and configured exactly as
mp.solutions.pose.Pose(static_image_mode=True, enable_segmentation=True) does, with
extra tap nodes (SplitTensorVectorCalculator + TensorsToFloatsCalculator) so the
internal tensor streams become observable, and writes every stage to DIR in the
layout defined in Tools/mediapipe/STAGES.md. Then (unless --no-verify) it runs
mp.solutions.pose in the same process and records the difference between the
graph's final landmarks and the solution's in manifest.json ("verification").
"""
import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import mpgraph  # noqa: E402

SCHEMA_VERSION = 1


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("image")
    ap.add_argument("--model", choices=["lite", "full"], required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--kernel9", action="store_true",
                    help="do not import the refine/smoothing option protos: plain-wheel behaviour (kernel 9)")
    ap.add_argument("--tensors", choices=["all", "small", "none"], default="all",
                    help="which .npy tensors to write: all, small (<= 16 KiB each), none")
    ap.add_argument("--u8", action="store_true",
                    help="also write detector_input_u8.npy / landmark_input_u8.npy (8-bit warp output)")
    ap.add_argument("--min-detection", type=float, default=0.5, help="min_detection_confidence (default 0.5)")
    ap.add_argument("--min-tracking", type=float, default=0.5,
                    help="min_tracking_confidence = presence threshold (default 0.5)")
    ap.add_argument("--cv2", action="store_true",
                    help="load the image with cv2.imread (BGR->RGB, EXIF orientation applied), not Pillow: "
                         "the loader of the JPEG references")
    ap.add_argument("--no-verify", action="store_true", help="skip the comparison with mp.solutions.pose")
    args = ap.parse_args(argv)

    kernel = mpgraph.select_heatmap_kernel(args.kernel9)
    import numpy as np
    from mediapipe.python import packet_creator, packet_getter
    from mediapipe.python._framework_bindings import calculator_graph, image_frame
    from mediapipe.python._framework_bindings import timestamp as mp_ts

    rgb = mpgraph.load_cv2_rgb(args.image) if args.cv2 else mpgraph.load_rgb(args.image)
    H, W = rgb.shape[:2]
    cfg, side = mpgraph.build_graph(args.model, tap=True, min_detection=args.min_detection,
                                    min_tracking=args.min_tracking)
    cfg_kernel = mpgraph.configured_kernel_size(cfg)
    if cfg_kernel != kernel:
        print(f"warning: graph config says heatmap kernel {cfg_kernel}, expected {kernel}", file=sys.stderr)

    graph = calculator_graph.CalculatorGraph(graph_config=cfg)
    got = {}

    def observer(name):
        def cb(stream, packet):
            # Timestamp-bound updates arrive as empty packets (observe_timestamp_bounds=True, as in
            # SolutionBase); they mean "no packet at this timestamp".
            if not packet.is_empty():
                got[name] = packet
        return cb

    for name, _, _ in mpgraph.TENSOR_TAPS:
        graph.observe_output_stream(f"tap_{name}", observer(name), True)
    graph.observe_output_stream("tap_detector_raw_boxes_graph", observer("detector_raw_boxes_graph"), True)
    for name, stream, _ in mpgraph.PROTO_TAPS:
        graph.observe_output_stream(stream, observer(name), True)

    side_packets = {k: (packet_creator.create_int(v) if t == "int" else packet_creator.create_bool(v))
                    for k, (t, v) in side.items()}
    graph.start_run(side_packets)
    # mp.solutions stamps the first frame at 33333 us.
    graph.add_packet_to_input_stream(
        stream="image",
        packet=packet_creator.create_image_frame(image_format=image_frame.ImageFormat.SRGB, data=rgb).at(33333))
    graph.wait_until_idle()

    os.makedirs(args.out, exist_ok=True)
    shapes = mpgraph.tensor_shapes(args.model)
    stages = {}

    def put(name, file, fmt, **extra):
        stages[name] = {"file": file, "format": fmt, **extra}

    def write_json(name, obj, **extra):
        fn = name + ".json"
        with open(os.path.join(args.out, fn), "w") as f:
            json.dump(obj, f, separators=(",", ":"))
        put(name, fn, "json", **extra)

    def write_npy(name, arr, **extra):
        if args.tensors == "none" or (args.tensors == "small" and arr.nbytes > 16384):
            skipped.append(name)
            return
        fn = name + ".npy"
        np.save(os.path.join(args.out, fn), arr)
        put(name, fn, "npy", dtype=str(arr.dtype), shape=list(arr.shape), **extra)

    notes = {}
    skipped = []
    # ---- tensors
    for name, stream, _ in mpgraph.TENSOR_TAPS:
        if name not in got:
            continue
        arr = np.asarray(packet_getter.get_float_list(got[name]), dtype=np.float32)
        shape = shapes[name]
        if arr.size != int(np.prod(shape)):
            raise SystemExit(f"error: stream {stream}: {arr.size} floats, expected shape {shape}")
        arr = arr.reshape(shape)
        if name in ("detector_input", "landmark_input"):
            # Recover the 8-bit warp output (spec: the warp is 8-bit, then v = p*scale + offset).
            scale, offset = (2.0 / 255.0, -1.0) if name == "detector_input" else (1.0 / 255.0, 0.0)
            p = np.rint((arr.astype(np.float64) - offset) / scale)
            u8 = np.clip(p, 0, 255).astype(np.uint8)[0]
            # MediaPipe's value transform (cv::Mat::convertTo with alpha, beta) is a float32 fused
            # multiply-add: v = fma(p, float(scale), float(offset)). Emulated exactly in float64
            # (p * float32(scale) is exact in 53 bits, one rounding to float32 at the end).
            back = (u8.astype(np.float64) * np.float64(np.float32(scale)) + np.float64(np.float32(offset))
                    ).astype(np.float32)[None]
            notes[name + "_u8_fma_roundtrip_bit_exact"] = bool(np.array_equal(back, arr))
            notes[name + "_u8_roundtrip_max_abs"] = float(np.max(np.abs(back - arr)))
            notes[name + "_u8_residual_max"] = float(np.max(np.abs(p - (arr.astype(np.float64) - offset) / scale)))
            if args.u8:
                # Written whatever --tensors says: --u8 is an explicit request.
                fn = name + "_u8.npy"
                np.save(os.path.join(args.out, fn), u8)
                put(name + "_u8", fn, "npy", dtype="uint8", shape=list(u8.shape), source="derived: round((v - offset)/scale) of " + name,
                          value_transform=[scale, offset])
        write_npy(name, arr, stream=stream)

    if "detector_raw_boxes" in got and "detector_raw_boxes_graph" in got:
        a = np.asarray(packet_getter.get_float_list(got["detector_raw_boxes"]), dtype=np.float32)
        b = np.asarray(packet_getter.get_float_list(got["detector_raw_boxes_graph"]), dtype=np.float32)
        notes["detector_copy_vs_graph_boxes_max_abs"] = float(np.max(np.abs(a - b)))

    # ---- protos
    for name, stream, kind in mpgraph.PROTO_TAPS:
        if name not in got:
            continue
        pk = got[name]
        if kind == "detections":
            dets = [mpgraph.detection_to_dict(d) for d in packet_getter.get_proto_list(pk)]
            write_json(name, dets, stream=stream, count=len(dets))
        elif kind == "detection":
            write_json(name, mpgraph.detection_to_dict(packet_getter.get_proto(pk)), stream=stream)
        elif kind == "rect":
            write_json(name, mpgraph.rect_to_dict(packet_getter.get_proto(pk)), stream=stream)
        elif kind == "float":
            s = float(packet_getter.get_float(pk))
            write_json(name, {"score": s, "present": s > args.min_tracking}, stream=stream)
        elif kind == "nlandmarks":
            rows = mpgraph.nlandmarks_to_rows(packet_getter.get_proto(pk))
            write_json(name, rows, stream=stream, count=len(rows))
        elif kind == "landmarks":
            rows = mpgraph.nlandmarks_to_rows(packet_getter.get_proto(pk))
            write_json(name, rows, stream=stream, count=len(rows))
        elif kind in ("image", "image_frame"):
            img = packet_getter.get_image(pk) if kind == "image" else packet_getter.get_image_frame(pk)
            arr = np.array(img.numpy_view(), dtype=np.float32)
            if arr.ndim == 3:
                arr = arr[:, :, 0]
            write_npy(name, arr, stream=stream)

    # Letterbox paddings are std::array<float,4> packets, which the Python bindings cannot read;
    # they are derived here with MediaPipe's PadRoi formula (docs/pipeline.md §2.2) for the record.
    def pad_roi(rw, rh, tw, th):
        ta, ra = th / tw, rh / rw
        if ta > ra:
            pv = (1 - ra / ta) / 2
            return [0.0, pv, 0.0, pv]
        ph = (1 - ta / ra) / 2
        return [ph, 0.0, ph, 0.0]

    # Which heatmap kernel did MediaPipe really use? Re-run §2.12 with 7 and 9 on its own inputs.
    if "landmark_raw_heatmap" in got and "landmarks_decoded" in got and "landmarks_refined" in got:
        hm = np.asarray(packet_getter.get_float_list(got["landmark_raw_heatmap"]), dtype=np.float32).reshape(64, 64, 39)
        dec = mpgraph.nlandmarks_to_rows(packet_getter.get_proto(got["landmarks_decoded"]))
        ref = np.array(mpgraph.nlandmarks_to_rows(packet_getter.get_proto(got["landmarks_refined"])))
        for k in (7, 9):
            mine = np.array(mpgraph.refine_from_heatmap(dec, hm, k))
            notes[f"refine_kernel{k}_numpy_vs_mediapipe_max_abs"] = float(np.max(np.abs(mine - ref)))

    found = "landmarks_final" in got
    manifest = {
        "schema_version": SCHEMA_VERSION,
        "producer": "mediapipe 0.10.14 (stages.py)",
        "image": os.path.basename(args.image),
        "image_size": [W, H],
        "model": args.model,
        "heatmap_kernel": kernel,
        "heatmap_kernel_in_graph_config": cfg_kernel,
        "pose_found": found,
        "min_detection_confidence": args.min_detection,
        "min_tracking_confidence": args.min_tracking,
        "detector_letterbox_padding_derived": pad_roi(W, H, 224, 224),
        "notes": notes,
        "stages": stages,
        "stages_not_written": skipped,
    }

    if not args.no_verify:
        manifest["verification"] = verify_against_solution(rgb, args.model, args.out, got,
                                                           args.min_detection, args.min_tracking)
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
    v = manifest.get("verification", {})
    print(f"{args.image} [{args.model}, kernel {kernel}] pose_found={found} stages={len(stages)} "
          f"verify={v.get('summary', 'skipped')}")
    graph.close()
    return 0


def verify_against_solution(rgb, model, out_dir, got, min_detection, min_tracking):
    """Runs mp.solutions.pose on the same image in this process; reports max |diff| of the final outputs."""
    import numpy as np
    import mediapipe as mp
    from mediapipe.python import packet_getter
    res = {}
    with mp.solutions.pose.Pose(static_image_mode=True, model_complexity=mpgraph.MODEL_COMPLEXITY[model],
                                enable_segmentation=True, min_detection_confidence=min_detection,
                                min_tracking_confidence=min_tracking) as pose:
        r = pose.process(rgb)
    sol_found = r.pose_landmarks is not None
    ours_found = "landmarks_final" in got
    res["solution_pose_found"] = sol_found
    if sol_found != ours_found:
        res["summary"] = f"MISMATCH pose_found graph={ours_found} solution={sol_found}"
        return res
    if not sol_found:
        res["summary"] = "both found no pose"
        return res
    a = np.array(mpgraph.nlandmarks_to_rows(packet_getter.get_proto(got["landmarks_final"])))
    b = np.array(mpgraph.nlandmarks_to_rows(r.pose_landmarks))
    aw = np.array(mpgraph.nlandmarks_to_rows(packet_getter.get_proto(got["world_landmarks_final"])))
    bw = np.array(mpgraph.nlandmarks_to_rows(r.pose_world_landmarks))
    # mp.solutions.pose clears the `presence` field of its outputs (pose.py process()), so only
    # x, y, z, visibility are compared.
    res["compared_columns"] = "x,y,z,visibility (mp.solutions.pose clears presence)"
    res["landmarks_max_abs"] = float(np.max(np.abs(a[:, :4] - b[:, :4])))
    res["world_landmarks_max_abs"] = float(np.max(np.abs(aw[:, :4] - bw[:, :4])))
    if "mask" in got:
        m = np.array(packet_getter.get_image_frame(got["mask"]).numpy_view(), dtype=np.float32)
        res["mask_max_abs"] = float(np.max(np.abs(m.reshape(r.segmentation_mask.shape) - r.segmentation_mask)))
    exact = res["landmarks_max_abs"] == 0 and res["world_landmarks_max_abs"] == 0 and res.get("mask_max_abs", 0) == 0
    res["summary"] = ("EXACT" if exact else "DIFF") + \
        f" lm={res['landmarks_max_abs']:.3g} world={res['world_landmarks_max_abs']:.3g} mask={res.get('mask_max_abs', float('nan')):.3g}"
    return res


if __name__ == "__main__":
    sys.exit(main())
