#!/usr/bin/env python3
"""Reference data for the TFLite reader's constant resolution.

Runs each pose model in LiteRT (builtin *reference* op resolver, all tensors preserved) on a zero input
and records, for every DEQUANTIZE and DENSIFY output tensor: index, name, shape, the SHA-256 of its
values as float32 little-endian bytes, and a few sample values. Writes Tests/TFLiteTests/Fixtures/<model>.constants.json.

Usage: python3 Tools/litert/dump_constants.py   (re-executes itself inside Tools/.venv-litert, created or
reused by Tools/litert/venv.sh from its pinned requirements.txt)
"""
import hashlib
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VENV = os.path.join(ROOT, "Tools", ".venv-litert")
MODELS = {name: os.path.join(ROOT, "weights", name + ".tflite")
          for name in ["pose_detection", "pose_landmark_lite", "pose_landmark_full"]}
# Hand-written block-sparse model (Tools/fuzz/make_seed_model.py): checks DENSIFY with a block dim and
# Uint8/Uint16 index vectors, which the pose models do not use.
# MediaPipe's sparse face detector (weights/mediapipe/, Tools/fetch-mediapipe-models.sh): DENSIFY like
# the pose detector, on another model.
MODELS["face_detection_full_range_sparse"] = os.path.join(ROOT, "weights", "mediapipe", "face_detection_full_range_sparse.tflite")
MODELS["tiny_block_sparse"] = os.path.join(ROOT, "Tests", "TFLiteTests", "Fixtures", "tiny_block_sparse.model")


def ensure_venv():
    """Re-executes this script inside Tools/.venv-litert, which Tools/litert/venv.sh creates or reuses."""
    if os.path.realpath(sys.prefix) == os.path.realpath(VENV):
        return
    out = subprocess.check_output(["bash", os.path.join(ROOT, "Tools", "litert", "venv.sh")], text=True)
    python = out.strip().splitlines()[-1]
    os.execv(python, [python] + sys.argv)


def dump(name, path):
    import numpy as np
    from ai_edge_litert import interpreter as litert

    interp = litert.Interpreter(
        model_path=path,
        experimental_op_resolver_type=litert.OpResolverType.BUILTIN_REF,
        experimental_preserve_all_tensors=True,
    )
    interp.allocate_tensors()
    for detail in interp.get_input_details():
        interp.set_tensor(detail["index"], np.zeros(detail["shape"], dtype=detail["dtype"]))
    interp.invoke()
    details = {t["index"]: t for t in interp.get_tensor_details()}
    records = []
    for op in interp._get_ops_details():
        if op["op_name"] not in ("DEQUANTIZE", "DENSIFY"):
            continue
        for index in op["outputs"]:
            values = interp.get_tensor(int(index)).astype("<f4")
            flat = values.reshape(-1)
            records.append({
                "op": op["op_name"],
                "operator": int(op["index"]),
                "tensor": int(index),
                "name": details[int(index)]["name"],
                "shape": [int(d) for d in values.shape],
                "sha256": hashlib.sha256(flat.tobytes()).hexdigest(),
                "samples": [{"i": int(i), "bits": int(flat[i:i + 1].view("<u4")[0])}
                            for i in sorted({0, flat.size // 3, flat.size // 2, flat.size - 1}) if flat.size],
            })
    out_dir = os.path.join(ROOT, "Tests", "TFLiteTests", "Fixtures")
    os.makedirs(out_dir, exist_ok=True)
    out = os.path.join(out_dir, name + ".constants.json")
    with open(out, "w") as f:
        json.dump({"model": os.path.basename(path), "tensors": records}, f, indent=1, sort_keys=True)
        f.write("\n")
    print(f"{name}: {len(records)} DEQUANTIZE/DENSIFY outputs -> {os.path.relpath(out, ROOT)}")


if __name__ == "__main__":
    ensure_venv()
    for model, path in MODELS.items():
        dump(model, path)
