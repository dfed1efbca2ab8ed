"""Shared helpers: build MediaPipe 0.10.14's own PoseLandmarkCpu graph (exactly as
mp.solutions.pose builds it) with taps on internal streams, and convert packets.

Import this module BEFORE anything else from mediapipe only after calling
`select_heatmap_kernel()`: whether the refine-landmarks and segmentation-smoothing
option protos are imported decides whether the graph keeps its published options
(kernel 7 / ratio 0.7) or silently falls back to proto defaults (kernel 9 / 0.0).
See docs/pipeline.md §4.9.
"""
import importlib
import os
import sys
import warnings

# protobuf 4.25 warns on every use of SymbolDatabase.GetPrototype inside mediapipe's packet getters.
warnings.filterwarnings("ignore", message=r"SymbolDatabase\.GetPrototype")

_KERNEL_MODE = None


def select_heatmap_kernel(kernel9: bool):
    """Must be called before importing mediapipe.python.solutions.pose or this module's graph helpers."""
    global _KERNEL_MODE
    if _KERNEL_MODE is not None and _KERNEL_MODE != kernel9:
        raise RuntimeError("heatmap kernel mode already fixed for this process")
    _KERNEL_MODE = kernel9
    if not kernel9:
        # Registering these Python option types keeps kernel_size 7 and ratio 0.7
        # when the graph config round-trips through Python protobuf.
        importlib.import_module("mediapipe.calculators.util.refine_landmarks_from_heatmap_calculator_pb2")
        importlib.import_module("mediapipe.calculators.image.segmentation_smoothing_calculator_pb2")
    return 9 if kernel9 else 7


def kernel_in_use():
    return 9 if _KERNEL_MODE else 7


MODEL_COMPLEXITY = {"lite": 0, "full": 1}

# Tensor taps: (tap name, source stream of std::vector<Tensor>, split index or None, shape per model)
# Shapes are NHWC / flat as produced by the models (see STAGES.md).
TENSOR_TAPS = [
    ("detector_input", "posedetectioncpu__input_tensors", None),
    ("detector_raw_boxes", "posedetectioncpu__detection_tensors", 0),
    ("detector_raw_scores", "posedetectioncpu__detection_tensors", 1),
    ("landmark_input", "poselandmarkbyroicpu__input_tensors", None),
    ("landmark_raw_landmarks", "poselandmarkbyroicpu__tensorstoposelandmarksandsegmentation__landmark_tensor", None),
    ("landmark_raw_poseflag", "poselandmarkbyroicpu__tensorstoposelandmarksandsegmentation__pose_flag_tensor", None),
    ("landmark_raw_segmentation", "poselandmarkbyroicpu__tensorstoposelandmarksandsegmentation__segmentation_tensor", None),
    ("landmark_raw_heatmap", "poselandmarkbyroicpu__tensorstoposelandmarksandsegmentation__heatmap_tensor", None),
    ("landmark_raw_world", "poselandmarkbyroicpu__tensorstoposelandmarksandsegmentation__world_landmark_tensor", None),
]


def tensor_shapes(model):
    seg = 256 if model == "full" else 128
    return {
        "detector_input": [1, 224, 224, 3],
        "detector_raw_boxes": [1, 2254, 12],
        "detector_raw_scores": [1, 2254, 1],
        "landmark_input": [1, 256, 256, 3],
        "landmark_raw_landmarks": [1, 195],
        "landmark_raw_poseflag": [1, 1],
        "landmark_raw_segmentation": [1, seg, seg, 1],
        "landmark_raw_heatmap": [1, 64, 64, 39],
        "landmark_raw_world": [1, 117],
    }


# Proto / image streams observed directly: (stage name, stream name, kind)
PROTO_TAPS = [
    ("detections_before_nms", "posedetectioncpu__unfiltered_detections", "detections"),
    ("detections_after_nms", "posedetectioncpu__filtered_detections", "detections"),
    ("detections_unletterboxed", "pose_detections", "detections"),
    ("detection", "pose_detection", "detection"),
    ("roi_alignment", "posedetectiontoroi__raw_roi", "rect"),
    ("roi", "pose_rect_from_detection", "rect"),
    ("pose_presence", "poselandmarkbyroicpu__tensorstoposelandmarksandsegmentation__pose_presence_score", "float"),
    ("landmarks_decoded", "poselandmarkbyroicpu__tensorstoposelandmarksandsegmentation__raw_landmarks", "nlandmarks"),
    ("landmarks_refined", "poselandmarkbyroicpu__tensorstoposelandmarksandsegmentation__all_landmarks", "nlandmarks"),
    ("landmarks_projected", "unfiltered_pose_landmarks", "nlandmarks"),
    ("auxiliary_projected", "unfiltered_auxiliary_landmarks", "nlandmarks"),
    ("world_landmarks", "unfiltered_world_landmarks", "landmarks"),
    ("landmarks_final", "pose_landmarks", "nlandmarks"),
    ("world_landmarks_final", "pose_world_landmarks", "landmarks"),
    ("auxiliary_filtered", "auxiliary_landmarks", "nlandmarks"),
    ("roi_from_landmarks", "pose_rect_from_landmarks", "rect"),
    ("mask_roi", "poselandmarkbyroicpu__roi_segmentation_mask", "image"),
    ("mask", "segmentation_mask", "image_frame"),
]


def _mp_root():
    import mediapipe
    return os.path.dirname(mediapipe.__file__)


def build_graph(model: str, tap: bool = True, min_detection: float = 0.5, min_tracking: float = 0.5):
    """Returns (CalculatorGraphConfig, side_packets dict) for static-image mode with segmentation,
    built exactly like mp.solutions.pose.Pose(static_image_mode=True, enable_segmentation=True)."""
    if _KERNEL_MODE is None:
        raise RuntimeError("call select_heatmap_kernel() first")
    from google.protobuf import text_format
    import mediapipe.python.solutions.pose  # noqa: F401  registers the same option protos as mp.solutions.pose
    from mediapipe.framework import calculator_pb2
    from mediapipe.python._framework_bindings import resource_util
    from mediapipe.python._framework_bindings import validated_graph_config
    from mediapipe.python.solution_base import SolutionBase

    root = _mp_root()
    # SolutionBase uses the parent of the mediapipe package as resource root.
    resource_util.set_resource_dir(os.path.dirname(root))
    vg = validated_graph_config.ValidatedGraphConfig()
    vg.initialize(binary_graph_path=os.path.join(root, "modules/pose_landmark/pose_landmark_cpu.binarypb"))
    cfg = calculator_pb2.CalculatorGraphConfig()
    cfg.ParseFromString(vg.binary_config)
    # Same calculator_params as mediapipe/python/solutions/pose.py with the default confidences.
    SolutionBase._modify_calculator_options(None, cfg, {
        "posedetectioncpu__TensorsToDetectionsCalculator.min_score_thresh": min_detection,
        "poselandmarkbyroicpu__tensorstoposelandmarksandsegmentation__ThresholdingCalculator.threshold": min_tracking,
    })
    if tap:
        add_taps(cfg, text_format)
    side = {
        "model_complexity": ("int", MODEL_COMPLEXITY[model]),
        "smooth_landmarks": ("bool", False),
        "enable_segmentation": ("bool", True),
        "smooth_segmentation": ("bool", False),
        "use_prev_landmarks": ("bool", False),
    }
    return cfg, side


def add_taps(cfg, text_format):
    """Adds observer-only nodes. Tensors are move-only in MediaPipe and SplitTensorVectorCalculator
    consumes its input packet, so it cannot share the detector's output stream with
    TensorsToDetectionsCalculator ("Packet isn't the sole owner"). The detector model is therefore run a
    second time, by a copy of its InferenceCalculator node, whose output feeds only the split. Its boxes
    are checked against the graph's own (tensor 0 of posedetectioncpu__detection_tensors, readable by
    TensorsToFloatsCalculator without consuming) in stages.py."""
    det_infer = [n for n in cfg.node if n.calculator.startswith("InferenceCalculator")
                 and "TENSORS:posedetectioncpu__input_tensors" in n.input_stream]
    if len(det_infer) != 1:
        raise RuntimeError("could not find the detector InferenceCalculator node")
    dup = cfg.node.add()
    dup.CopyFrom(det_infer[0])
    dup.name = "tap_detector_inference_copy"
    del dup.output_stream[:]
    dup.output_stream.append("TENSORS:tap_detection_tensors_copy")
    text_format.Parse("""
      calculator: "SplitTensorVectorCalculator"
      input_stream: "tap_detection_tensors_copy"
      output_stream: "tap_split_detector_raw_boxes"
      output_stream: "tap_split_detector_raw_scores"
      options { [mediapipe.SplitVectorCalculatorOptions.ext] {
        ranges { begin: 0 end: 1 } ranges { begin: 1 end: 2 } } }""", cfg.node.add())
    for name, stream, index in TENSOR_TAPS:
        src = stream if index is None else f"tap_split_{name}"
        text_format.Parse(f"""
          calculator: "TensorsToFloatsCalculator"
          input_stream: "TENSORS:{src}"
          output_stream: "FLOATS:tap_{name}" """, cfg.node.add())
    # Tensor 0 (boxes) of the graph's own detector output, to prove the copy is identical.
    text_format.Parse("""
      calculator: "TensorsToFloatsCalculator"
      input_stream: "TENSORS:posedetectioncpu__detection_tensors"
      output_stream: "FLOATS:tap_detector_raw_boxes_graph" """, cfg.node.add())


def configured_kernel_size(cfg):
    """The kernel_size the RefineLandmarksFromHeatmap node will actually use (9 if the option was lost)."""
    for node in cfg.node:
        if node.calculator == "RefineLandmarksFromHeatmapCalculator":
            # Importing the option module here would change the behaviour of any graph built later in
            # this process (see select_heatmap_kernel), so only look if it is already imported.
            r = sys.modules.get("mediapipe.calculators.util.refine_landmarks_from_heatmap_calculator_pb2")
            if r is None:
                return 9  # the option type is unknown to Python protobuf: the option is dropped
            if node.options.HasExtension(r.RefineLandmarksFromHeatmapCalculatorOptions.ext):
                o = node.options.Extensions[r.RefineLandmarksFromHeatmapCalculatorOptions.ext]
                return o.kernel_size
            for any_opt in node.node_options:
                o = r.RefineLandmarksFromHeatmapCalculatorOptions()
                if any_opt.Unpack(o):
                    return o.kernel_size
            return 9  # proto default: the option was dropped
    return None


# ---------- packet → plain python ----------

def detection_to_dict(d):
    loc = d.location_data
    bb = loc.relative_bounding_box
    return {
        "score": float(d.score[0]) if len(d.score) else None,
        "xmin": bb.xmin, "ymin": bb.ymin, "width": bb.width, "height": bb.height,
        "keypoints": [[k.x, k.y] for k in loc.relative_keypoints],
    }


def rect_to_dict(r):
    return {"x_center": r.x_center, "y_center": r.y_center, "width": r.width,
            "height": r.height, "rotation": r.rotation}


def nlandmarks_to_rows(lst):
    return [[l.x, l.y, l.z, l.visibility, l.presence] for l in lst.landmark]


def refine_from_heatmap(decoded, heatmap, kernel):
    """docs/pipeline.md §2.12 in numpy (float64): decoded = [39][5] crop-normalized rows, heatmap [64,64,39] logits.
    Used only to tell which kernel size MediaPipe actually applied."""
    import numpy as np
    out = [list(r) for r in decoded]
    hm = 1.0 / (1.0 + np.exp(-heatmap.astype(np.float64)))
    hh, ww, _ = hm.shape
    o = (kernel - 1) // 2
    for k, row in enumerate(out):
        c, r = int(row[0] * ww), int(row[1] * hh)  # truncation toward zero, like C++
        if c < 0 or c >= ww or r < 0 or r >= hh:
            continue
        win = hm[max(0, r - o):min(hh, r + o + 1), max(0, c - o):min(ww, c + o + 1), k]
        rows = np.arange(max(0, r - o), min(hh, r + o + 1))[:, None]
        cols = np.arange(max(0, c - o), min(ww, c + o + 1))[None, :]
        s = win.sum()
        if win.max() >= 0.5 and s > 0:
            row[0] = float((win * cols).sum() / ww / s)
            row[1] = float((win * rows).sum() / hh / s)
    return out


def load_cv2_rgb(path):
    """[H, W, 3] uint8 RGB from cv2.imread (BGR, EXIF orientation applied): the reference loader for JPEG."""
    import cv2
    bgr = cv2.imread(path, cv2.IMREAD_COLOR)
    if bgr is None:
        raise SystemExit(f"error: cv2.imread cannot read {path!r}")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def load_rgb(path):
    """[H, W, 3] uint8 RGB (HWC). Exits with a clear message on a missing or undecodable file."""
    import numpy as np
    from PIL import Image, UnidentifiedImageError
    try:
        with Image.open(path) as im:
            return np.ascontiguousarray(np.asarray(im.convert("RGB")))
    except FileNotFoundError:
        raise SystemExit(f"error: image {path!r} not found")
    except (UnidentifiedImageError, OSError) as e:
        raise SystemExit(f"error: image {path!r} could not be decoded: {e}")
