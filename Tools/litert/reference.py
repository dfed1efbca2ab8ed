#!/usr/bin/env python3
"""Run a .tflite model in LiteRT and dump its tensors as .npy plus manifest.json.

This is the reference the Swift runtime is checked against. By default it uses
LiteRT's builtin kernels with no delegate
(OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES, 1 thread), which is the
plainest, most literal implementation of each TFLite operator. `--xnnpack` runs
the default delegate (XNNPACK) instead; `--compare-xnnpack` runs both and records
max|xnnpack - builtin| / max|builtin| per output in the manifest.

Input, one of:
  --input-npy FILE        float32 array fed as is, or uint8 array mapped with
                          --scale/--offset (see "Input value transform" below).
  --image NAME_OR_PATH    `astronaut` (scikit-image), `grace_hopper` (matplotlib)
                          or a path; pre-processed by --preset:
      detector   letterbox to the model's H x W (aspect kept, centred), bilinear;
                 pad pixels are p = 0, scale = 2/255, offset = -1  ->  x in [-1, 1],
                 pad = -1.
      landmark   square crop --crop X Y SIZE (pixels, top-left corner and side of
                 the square in the source image; default: centred square), resized
                 bilinearly to the model's H x W; scale = 1/255, offset = 0.

Input value transform (documented contract, the Swift tests compute the same):
  the stored input is uint8 p with shape [1, H, W, 3] (NHWC, RGB) and the float
  fed to the model is
        x = Float32(p) * scale + offset
  evaluated in float32 as two separately rounded operations (a multiply, then an
  add; no fused multiply-add). `scale` and `offset` are float32 values; the
  manifest stores each as the exact decimal of that float32 and as its IEEE-754
  bit pattern (`scale_bits`, `offset_bits`, hex).

Output directory layout:
  input.npy             the input as stored (uint8, or float32 for a float npy)
  <tensor>.npy          each output (float32), named after the sanitised tensor name
  intermediates/<index>_<tensor>.npy   with --intermediates: every tensor produced
                        by an operator that is not a model output
  manifest.json         per tensor: file, name, index, shape, dtype, role
                        (input/output/intermediate), producer_op_index and
                        producer_op_name (null for the input)

Examples:
  PY=$(bash Tools/litert/venv.sh)
  $PY Tools/litert/reference.py weights/pose_detection.tflite --image astronaut \
      --preset detector --out /tmp/ref/det --compare-xnnpack
  $PY Tools/litert/reference.py weights/pose_landmark_full.tflite \
      --input-npy Tests/RuntimeTests/Fixtures/pose_landmark_full/astronaut/input.npy \
      --scale 0.003921568859368563 --offset 0 --intermediates --out /tmp/ref/full
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import struct
import sys

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
from ai_edge_litert import interpreter as litert  # noqa: E402


# ---------------------------------------------------------------- images


def image_path(name: str) -> str:
    """Resolves the named public-domain sample images shipped in PyPI packages."""
    if name == "astronaut":
        import skimage.data

        return os.path.join(os.path.dirname(skimage.data.__file__), "astronaut.png")
    if name == "grace_hopper":
        import matplotlib.cbook

        return str(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
    return name


def load_rgb(path: str) -> np.ndarray:
    """Returns the image as uint8 [H, W, 3] (HWC, RGB)."""
    from PIL import Image

    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"), dtype=np.uint8).copy()


def resize_bilinear(img: np.ndarray, out_h: int, out_w: int) -> np.ndarray:
    """Bilinear resize of uint8 [H, W, 3] with half-pixel centres and edge clamping.

    Plain bilinear (no anti-aliasing): good enough for runtime fixtures, which test
    the interpreter, not the pre-processing. Rounded back to uint8 (round half up).
    """
    h, w, _ = img.shape
    ys = (np.arange(out_h, dtype=np.float64) + 0.5) * (h / out_h) - 0.5
    xs = (np.arange(out_w, dtype=np.float64) + 0.5) * (w / out_w) - 0.5
    ys = np.clip(ys, 0, h - 1)
    xs = np.clip(xs, 0, w - 1)
    y0 = np.floor(ys).astype(np.int64)
    x0 = np.floor(xs).astype(np.int64)
    y1 = np.minimum(y0 + 1, h - 1)
    x1 = np.minimum(x0 + 1, w - 1)
    fy = (ys - y0)[:, None, None]
    fx = (xs - x0)[None, :, None]
    f = img.astype(np.float64)
    top = f[y0][:, x0] * (1 - fx) + f[y0][:, x1] * fx
    bot = f[y1][:, x0] * (1 - fx) + f[y1][:, x1] * fx
    out = top * (1 - fy) + bot * fy
    return np.clip(np.floor(out + 0.5), 0, 255).astype(np.uint8)


def letterbox(img: np.ndarray, out_h: int, out_w: int) -> tuple[np.ndarray, dict]:
    """Aspect-preserving resize into out_h x out_w, centred, pad pixels p = 0."""
    h, w, _ = img.shape
    s = min(out_h / h, out_w / w)
    rh, rw = max(1, round(h * s)), max(1, round(w * s))
    resized = resize_bilinear(img, rh, rw)
    canvas = np.zeros((out_h, out_w, 3), dtype=np.uint8)
    top, left = (out_h - rh) // 2, (out_w - rw) // 2
    canvas[top : top + rh, left : left + rw] = resized
    return canvas, {"resized_hw": [rh, rw], "pad_top": top, "pad_left": left}


def crop_square(img: np.ndarray, x: int, y: int, size: int) -> np.ndarray:
    """Square crop; parts outside the image are zero (black)."""
    h, w, _ = img.shape
    out = np.zeros((size, size, 3), dtype=np.uint8)
    sx0, sy0 = max(x, 0), max(y, 0)
    sx1, sy1 = min(x + size, w), min(y + size, h)
    if sx1 > sx0 and sy1 > sy0:
        out[sy0 - y : sy1 - y, sx0 - x : sx1 - x] = img[sy0:sy1, sx0:sx1]
    return out


# ---------------------------------------------------------------- helpers


def f32_record(v: float) -> tuple[float, str]:
    """(exact decimal of the float32 value, its IEEE-754 bits as hex)."""
    f = np.float32(v)
    bits = struct.unpack("<I", struct.pack("<f", float(f)))[0]
    return float(f), f"0x{bits:08x}"


def apply_transform(p: np.ndarray, scale: float, offset: float) -> np.ndarray:
    """x = Float32(p) * scale + offset, two separately rounded float32 ops."""
    prod = np.multiply(p.astype(np.float32), np.float32(scale), dtype=np.float32)
    return np.add(prod, np.float32(offset), dtype=np.float32)


def sanitize(name: str, limit: int = 80) -> str:
    """File-name-safe form of a tensor name; long fused names are cut (the manifest
    keeps the full name)."""
    s = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_.")[:limit].rstrip("_.")
    return s or "tensor"


def sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def make_interpreter(model: str, xnnpack: bool, threads: int, preserve: bool):
    # preserve_all_tensors only works without delegates (LiteRT switches the
    # resolver to BUILTIN_WITHOUT_DEFAULT_DELEGATES itself); say so instead.
    if xnnpack and preserve:
        raise SystemExit("reference.py: --intermediates cannot be used with --xnnpack "
                         "(XNNPACK fuses operators; intermediates only exist with builtin kernels)")
    resolver = (litert.OpResolverType.AUTO if xnnpack
                else litert.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    it = litert.Interpreter(model_path=model, num_threads=threads,
                            experimental_op_resolver_type=resolver,
                            experimental_preserve_all_tensors=preserve)
    it.allocate_tensors()
    return it


def run(it, x: np.ndarray) -> dict[int, np.ndarray]:
    inp = it.get_input_details()[0]
    it.set_tensor(inp["index"], x)
    it.invoke()
    return {d["index"]: it.get_tensor(d["index"]).copy() for d in it.get_output_details()}


# ---------------------------------------------------------------- main


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", help=".tflite file")
    ap.add_argument("--out", required=True, help="output directory (created)")
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--input-npy", help="input .npy (float32 as is, or uint8 with --scale/--offset)")
    src.add_argument("--image", help="astronaut | grace_hopper | path to an image file")
    ap.add_argument("--preset", choices=["detector", "landmark"], help="pre-processing for --image")
    ap.add_argument("--crop", type=int, nargs=3, metavar=("X", "Y", "SIZE"),
                    help="landmark preset: square crop (pixels) before resizing")
    ap.add_argument("--scale", type=float, help="uint8 input: value scale (float32)")
    ap.add_argument("--offset", type=float, help="uint8 input: value offset (float32)")
    ap.add_argument("--intermediates", action="store_true", help="also dump every intermediate tensor")
    ap.add_argument("--xnnpack", action="store_true", help="run with the default delegate (XNNPACK)")
    ap.add_argument("--compare-xnnpack", action="store_true",
                    help="builtin run plus an XNNPACK run; record max|xnn-ref|/max|ref| per output")
    ap.add_argument("--threads", type=int, default=1, help="interpreter threads (default 1)")
    ap.add_argument("--label", help="free-text label stored in the manifest")
    a = ap.parse_args(argv)

    if not os.path.isfile(a.model):
        ap.error(f"model not found: {a.model} (run bash Tools/setup.sh)")

    probe = make_interpreter(a.model, False, 1, False)
    ins = probe.get_input_details()
    if len(ins) != 1:
        ap.error(f"{a.model}: expected 1 input, model has {len(ins)}")
    in_shape = [int(v) for v in ins[0]["shape"]]
    del probe

    # -- input: stored form + float form
    source: dict = {}
    scale = offset = None
    if a.image:
        if a.preset is None:
            ap.error("--image needs --preset detector|landmark")
        if len(in_shape) != 4 or in_shape[0] != 1 or in_shape[3] != 3:
            ap.error(f"{a.model}: input shape {in_shape} is not [1, H, W, 3]")
        _, H, W, _ = in_shape
        path = image_path(a.image)
        img = load_rgb(path)
        source = {"image": a.image if a.image in ("astronaut", "grace_hopper") else os.path.basename(path),
                  "image_sha256": sha256(path), "image_hw": list(img.shape[:2]),
                  "preset": a.preset, "resampler": "bilinear, half-pixel centres, edge clamp, round half up"}
        if a.preset == "detector":
            stored, info = letterbox(img, H, W)
            source.update(info)
            scale, offset = 2.0 / 255.0, -1.0
        else:
            h, w, _ = img.shape
            if a.crop:
                x, y, size = a.crop
            else:
                size = min(h, w)
                x, y = (w - size) // 2, (h - size) // 2
            if size <= 0:
                ap.error("--crop SIZE must be positive")
            source["crop_xy_size"] = [x, y, size]
            stored = resize_bilinear(crop_square(img, x, y, size), H, W)
            scale, offset = 1.0 / 255.0, 0.0
        stored = stored[None]  # [1, H, W, 3] NHWC uint8
    else:
        stored = np.load(a.input_npy)
        source = {"npy": os.path.basename(a.input_npy)}
        if stored.dtype == np.uint8:
            if a.scale is None or a.offset is None:
                ap.error("a uint8 --input-npy needs --scale and --offset")
            scale, offset = a.scale, a.offset
        elif stored.dtype != np.float32:
            ap.error(f"--input-npy dtype {stored.dtype} unsupported (uint8 or float32)")
    if list(stored.shape) != in_shape:
        ap.error(f"input shape {list(stored.shape)} != model input {in_shape}")
    x = apply_transform(stored, scale, offset) if stored.dtype == np.uint8 else stored

    # -- runs
    it = make_interpreter(a.model, a.xnnpack, a.threads, a.intermediates)
    outs = run(it, x)

    os.makedirs(a.out, exist_ok=True)
    np.save(os.path.join(a.out, "input.npy"), stored)

    ops = it._get_ops_details()
    producer = {}
    for op in ops:
        for t in op["outputs"]:
            producer[int(t)] = (int(op["index"]), op["op_name"])
    details = {d["index"]: d for d in it.get_tensor_details()}

    def entry(idx, file, role, shape, dtype):
        d = details.get(idx)
        p = producer.get(idx)
        return {"file": file, "name": d["name"] if d else "", "index": int(idx),
                "shape": [int(s) for s in shape], "dtype": str(np.dtype(dtype)), "role": role,
                "producer_op_index": p[0] if p else None, "producer_op_name": p[1] if p else None}

    tensors = []
    in_idx = int(it.get_input_details()[0]["index"])
    e = entry(in_idx, "input.npy", "input", in_shape, np.float32)
    e["stored_dtype"] = str(stored.dtype)
    tensors.append(e)

    used = {"input"}
    out_names = {}
    for d in it.get_output_details():
        base = sanitize(d["name"])
        while base in used:
            base += "_"
        used.add(base)
        out_names[d["index"]] = base
        arr = outs[d["index"]]
        np.save(os.path.join(a.out, base + ".npy"), arr)
        tensors.append(entry(d["index"], base + ".npy", "output", arr.shape, arr.dtype))

    if a.intermediates:
        os.makedirs(os.path.join(a.out, "intermediates"), exist_ok=True)
        for idx in sorted(producer):
            if idx in outs:
                continue
            try:
                arr = it.get_tensor(idx)
            except ValueError:
                continue  # tensor without data (LiteRT refuses it); nothing to dump
            d = details.get(idx)
            file = f"intermediates/{idx:04d}_{sanitize(d['name'] if d else str(idx))}.npy"
            np.save(os.path.join(a.out, file), arr)
            tensors.append(entry(idx, file, "intermediate", arr.shape, arr.dtype))

    manifest = {
        "model": os.path.basename(a.model),
        "model_sha256": sha256(a.model),
        "runtime": f"ai-edge-litert {getattr(litert, '__version__', None) or _litert_version()}",
        "kernels": "XNNPACK (default delegate)" if a.xnnpack else "builtin (BUILTIN_WITHOUT_DEFAULT_DELEGATES)",
        "threads": a.threads,
        "source": source,
        "tensors": tensors,
    }
    if a.label:
        manifest["label"] = a.label
    if scale is not None:
        s, sb = f32_record(scale)
        o, ob = f32_record(offset)
        manifest["input_transform"] = {
            "formula": "x = Float32(p) * scale + offset, float32, multiply then add, each rounded (no FMA)",
            "scale": s, "scale_bits": sb, "offset": o, "offset_bits": ob}

    if a.compare_xnnpack and not a.xnnpack:
        xit = make_interpreter(a.model, True, a.threads, False)
        xouts = run(xit, x)
        cmp = []
        for idx, ref in outs.items():
            got = xouts[idx]
            max_ref = float(np.max(np.abs(ref))) if ref.size else 0.0
            max_diff = float(np.max(np.abs(got.astype(np.float64) - ref.astype(np.float64)))) if ref.size else 0.0
            cmp.append({"output": out_names[idx], "max_abs_diff": max_diff, "max_abs_ref": max_ref,
                        "relative": max_diff / max_ref if max_ref > 0 else None})
        manifest["xnnpack_vs_builtin"] = cmp
        for c in cmp:
            print(f"{os.path.basename(a.model)} {c['output']}: max|xnnpack-builtin| = {c['max_abs_diff']:.3e}, "
                  f"max|builtin| = {c['max_abs_ref']:.3e}, relative = {c['relative']:.3e}")

    with open(os.path.join(a.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    n_int = sum(1 for t in tensors if t["role"] == "intermediate")
    print(f"reference.py: wrote {len(tensors) - n_int} input/output tensors"
          f"{f' + {n_int} intermediates' if a.intermediates else ''} to {a.out}", file=sys.stderr)
    return 0


def _litert_version() -> str:
    try:
        from importlib.metadata import version

        return version("ai-edge-litert")
    except Exception:  # pragma: no cover - best effort label only
        return "unknown"


if __name__ == "__main__":
    sys.exit(main())
