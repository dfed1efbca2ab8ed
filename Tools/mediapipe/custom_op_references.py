#!/usr/bin/env python3
"""Reference dumps for the wheel models that use MediaPipe's custom TFLite operators.

LiteRT's Python interpreter has none of MediaPipe's custom ops, so `Tools/litert/reference.py`
cannot run these models. The references come from two independent sources instead:

1. MediaPipe's own graph (mediapipe 0.10.14 wheel), run exactly as the Python solutions build it,
   with observer-only TensorsToFloatsCalculator taps on the model's input tensor and its output
   tensors. The wheel runs the model with its XNNPACK delegate and MediaPipe's custom-op resolver.
   - `selfie_segmentation` / `selfie_segmentation_landscape`: mp.solutions.selfie_segmentation's
     graph (model_selection 0 / 1). Custom op: Convolution2DTransposeBias.
   - `face_landmark_with_attention`: mp.solutions.face_mesh's graph with refine_landmarks=True.
     Custom ops: Landmarks2TransformMatrix, TransformTensorBilinear, TransformLandmarks.
2. For Convolution2DTransposeBias only, an equivalent builtin model: the custom operator is rewritten
   in a copy of the file to a builtin TRANSPOSE_CONV with a bias input (same padding arithmetic for
   the shapes these models use, checked below), which LiteRT runs with its builtin kernels (the
   reference stored, as for every builtin-op fixture) and with XNNPACK (`xnnpack_vs_builtin`). The
   MediaPipe graph's output is compared with it and recorded as `mediapipe_graph_vs_builtin`.

The face model has no builtin equivalent (its custom ops need atan2/sin/cos and a bilinear gather),
so its fixture stores the MediaPipe graph's outputs themselves (XNNPACK for the builtin ops), and the
manifest says so (`reference`).

Usage (two venvs: the mediapipe wheel and LiteRT cannot share one):
    Tools/mediapipe/custom_op_references.py all --image Samples/astronaut.png \
        --out Tests/RuntimeTests/Fixtures
runs `tap` under Tools/.venv-mediapipe and `finish` under Tools/.venv-litert (each created or reused
by its folder's venv.sh). The fixture folder is
<out>/<model>/<image stem>/: input.npy (uint8 with an input_transform when the tapped floats are
exactly p/255, else float32), one float32 .npy per output, manifest.json (format of
Tools/litert/README.md "Fixture format").
"""
import argparse
import hashlib
import json
import os
import struct
import subprocess
import sys
import tempfile
import warnings

warnings.filterwarnings("ignore", message=r"SymbolDatabase\.GetPrototype")

HERE = os.path.dirname(os.path.abspath(__file__))
TOOLS = os.path.dirname(HERE)

SELFIE = {0: "selfie_segmentation", 1: "selfie_segmentation_landscape"}
FACE = "face_landmark_with_attention"
# face_landmark_with_attention's outputs in subgraph order, and the graph streams that carry each
# one after MediaPipe's own SplitTensorVectorCalculator (read there, never consumed).
FACE_PREFIX = "facelandmarkcpu__switchcontainer_2__tensorstofacelandmarkswithattention__"
FACE_OUTPUTS = [
    ("output_mesh_identity", FACE_PREFIX + "mesh_tensor"),
    ("output_lips", FACE_PREFIX + "lips_tensor"),
    ("output_left_eye", FACE_PREFIX + "left_eye_tensor"),
    ("output_right_eye", FACE_PREFIX + "right_eye_tensor"),
    ("output_left_iris", FACE_PREFIX + "left_iris_tensor"),
    ("output_right_iris", FACE_PREFIX + "right_iris_tensor"),
    ("conv_faceflag", "facelandmarkcpu__switchcontainer_1__c1__facelandmarkcpu__face_flag_tensor"),
]


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# ------------------------------------------------------------------ stage 1: MediaPipe graph taps

def _graph_config(binary, text_format):
    import mediapipe
    from mediapipe.framework import calculator_pb2
    from mediapipe.python._framework_bindings import resource_util, validated_graph_config
    root = os.path.dirname(mediapipe.__file__)
    resource_util.set_resource_dir(os.path.dirname(root))
    vg = validated_graph_config.ValidatedGraphConfig()
    vg.initialize(binary_graph_path=os.path.join(root, binary))
    cfg = calculator_pb2.CalculatorGraphConfig()
    cfg.ParseFromString(vg.binary_config)
    return cfg


def _tap(cfg, text_format, stream, name):
    text_format.Parse(f"""
      calculator: "TensorsToFloatsCalculator"
      input_stream: "TENSORS:{stream}"
      output_stream: "FLOATS:tap_{name}" """, cfg.node.add())


def _run_graph(cfg, side, taps, rgb):
    from mediapipe.python import packet_creator, packet_getter
    from mediapipe.python._framework_bindings import calculator_graph, image_frame
    import numpy as np
    graph = calculator_graph.CalculatorGraph(graph_config=cfg)
    got = {}

    def observer(name):
        def cb(stream, packet):
            if not packet.is_empty():
                got[name] = packet
        return cb

    for name in taps:
        graph.observe_output_stream(f"tap_{name}", observer(name), True)
    packets = {}
    for k, (t, v) in side.items():
        packets[k] = packet_creator.create_int(v) if t == "int" else packet_creator.create_bool(v)
    graph.start_run(packets)
    graph.add_packet_to_input_stream(
        stream="image",
        packet=packet_creator.create_image_frame(image_format=image_frame.ImageFormat.SRGB, data=rgb).at(33333))
    graph.wait_until_idle()
    graph.close()
    missing = [n for n in taps if n not in got]
    if missing:
        raise SystemExit(f"error: the graph produced no packet on {missing} (no person / face found?)")
    return {n: np.asarray(packet_getter.get_float_list(got[n]), dtype=np.float32) for n in taps}


def stage_tap(args):
    from google.protobuf import text_format
    import numpy as np
    from PIL import Image
    import mediapipe.python.solutions.selfie_segmentation  # noqa: F401  (registers option protos)
    import mediapipe.python.solutions.face_mesh  # noqa: F401
    from mediapipe.python.solution_base import SolutionBase
    with Image.open(args.image) as im:
        rgb = np.ascontiguousarray(np.asarray(im.convert("RGB")))
    os.makedirs(args.raw, exist_ok=True)
    for selection, model in SELFIE.items():
        cfg = _graph_config("modules/selfie_segmentation/selfie_segmentation_cpu.binarypb", text_format)
        _tap(cfg, text_format, "input_tensors", "input")
        _tap(cfg, text_format, "output_tensors", "output")
        got = _run_graph(cfg, {"model_selection": ("int", selection)}, ["input", "output"], rgb)
        np.save(os.path.join(args.raw, f"{model}_input.npy"), got["input"])
        np.save(os.path.join(args.raw, f"{model}_output.npy"), got["output"])
        print(f"{model}: tapped input {got['input'].size} floats, output {got['output'].size} floats")
    cfg = _graph_config("modules/face_landmark/face_landmark_front_cpu.binarypb", text_format)
    # Same calculator_params as mediapipe/python/solutions/face_mesh.py with its default confidences.
    SolutionBase._modify_calculator_options(None, cfg, {
        "facedetectionshortrangecpu__facedetectionshortrange__facedetection__"
        "TensorsToDetectionsCalculator.min_score_thresh": 0.5,
        "facelandmarkcpu__ThresholdingCalculator.threshold": 0.5,
    })
    _tap(cfg, text_format, "facelandmarkcpu__input_tensors", "input")
    for name, stream in FACE_OUTPUTS:
        _tap(cfg, text_format, stream, name)
    side = {"num_faces": ("int", 1), "with_attention": ("bool", True), "use_prev_landmarks": ("bool", False)}
    got = _run_graph(cfg, side, ["input"] + [n for n, _ in FACE_OUTPUTS], rgb)
    np.save(os.path.join(args.raw, f"{FACE}_input.npy"), got["input"])
    for name, _ in FACE_OUTPUTS:
        np.save(os.path.join(args.raw, f"{FACE}_{name}.npy"), got[name])
    print(f"{FACE}: tapped input {got['input'].size} floats and {len(FACE_OUTPUTS)} outputs")
    return 0


# ------------------------------------------------------------------ stage 2: fixtures (LiteRT venv)

def _f32_record(v):
    import numpy as np
    f = np.float32(v)
    return float(f), "0x%08x" % struct.unpack("<I", struct.pack("<f", float(f)))[0]


def _stored_input(x):
    """uint8 p with x == Float32(p) * (1/255) (two roundings, offset 0) bit for bit, else None."""
    import numpy as np
    p = np.rint(x.astype(np.float64) * 255.0)
    if p.min() < 0 or p.max() > 255:
        return None
    p = p.astype(np.uint8)
    back = np.add(np.multiply(p.astype(np.float32), np.float32(1.0 / 255.0), dtype=np.float32),
                  np.float32(0.0), dtype=np.float32)
    return p if np.array_equal(back.view(np.uint32), x.view(np.uint32)) else None


def _builtin_equivalent(src_path, dst_path):
    """Copies the model with every Convolution2DTransposeBias rewritten to builtin TRANSPOSE_CONV
    (inputs output_shape, weights, input, bias). Returns [(op index, output tensor index)]."""
    import numpy as np
    from ai_edge_litert import schema_py_generated as S
    import flatbuffers
    with open(src_path, "rb") as f:
        buf = f.read()
    m = S.ModelT.InitFromPackedBuf(buf, 0)
    sg = m.subgraphs[0]
    custom = [i for i, c in enumerate(m.operatorCodes)
              if c.customCode is not None and c.customCode.decode() == "Convolution2DTransposeBias"]
    code = S.OperatorCodeT()
    code.builtinCode = S.BuiltinOperator.TRANSPOSE_CONV
    code.deprecatedBuiltinCode = S.BuiltinOperator.TRANSPOSE_CONV
    code.version = 3
    m.operatorCodes.append(code)
    tc_index = len(m.operatorCodes) - 1
    rewritten = []
    for i, op in enumerate(sg.operators):
        if op.opcodeIndex not in custom:
            continue
        opts = bytes(op.customOptions)
        if len(opts) < 12:
            raise SystemExit(f"op {i}: custom_options has {len(opts)} bytes, expected 12")
        padding, stride_w, stride_h = struct.unpack("<3i", opts[:12])
        x, w, b = op.inputs
        y = op.outputs[0]
        in_shape = list(sg.tensors[x].shape)
        w_shape = list(sg.tensors[w].shape)
        out_shape = list(sg.tensors[y].shape)
        # MediaPipe: SAME total padding = max(0, k - (in - 1) % s - 1), offset = total / 2, output
        # = s * (in - 1) + k - total. TFLite TRANSPOSE_CONV (SAME): total = max(0, (in-1)*s + k - out),
        # offset = total / 2. They agree when the output has MediaPipe's size, checked here.
        for axis, s in ((1, stride_h), (2, stride_w)):
            k = w_shape[axis]
            total = max(0, k - (in_shape[axis] - 1) % s - 1) if padding == 1 else 0
            if out_shape[axis] != s * (in_shape[axis] - 1) + k - total:
                raise SystemExit(f"op {i}: output shape {out_shape} is not MediaPipe's")
            if padding == 1 and max(0, (in_shape[axis] - 1) * s + k - out_shape[axis]) != total:
                raise SystemExit(f"op {i}: TRANSPOSE_CONV would pad differently")
        buf_shape = S.BufferT()
        buf_shape.data = np.asarray(out_shape, dtype="<i4").tobytes()
        m.buffers.append(buf_shape)
        t = S.TensorT()
        t.shape = [4]
        t.type = S.TensorType.INT32
        t.buffer = len(m.buffers) - 1
        t.name = f"transpose_conv_output_shape_{i}".encode()
        sg.tensors.append(t)
        o = S.TransposeConvOptionsT()
        o.padding = S.Padding.SAME if padding == 1 else S.Padding.VALID
        o.strideW, o.strideH = stride_w, stride_h
        o.fusedActivationFunction = S.ActivationFunctionType.NONE
        op.opcodeIndex = tc_index
        op.inputs = [len(sg.tensors) - 1, w, x, b]
        op.builtinOptionsType = S.BuiltinOptions.TransposeConvOptions
        op.builtinOptions = o
        op.customOptions = None
        rewritten.append((i, y))
    builder = flatbuffers.Builder(len(buf) + 4096)
    builder.Finish(m.Pack(builder), file_identifier=b"TFL3")
    with open(dst_path, "wb") as f:
        f.write(builder.Output())
    return rewritten


def _interpreter(path, xnnpack):
    from ai_edge_litert import interpreter as litert
    resolver = (litert.OpResolverType.AUTO if xnnpack
                else litert.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    it = litert.Interpreter(model_path=path, num_threads=1, experimental_op_resolver_type=resolver)
    it.allocate_tensors()
    return it


def _litert_run(it, x):
    inp = it.get_input_details()[0]
    it.set_tensor(inp["index"], x.reshape(inp["shape"]))
    it.invoke()
    return {d["index"]: it.get_tensor(d["index"]).copy() for d in it.get_output_details()}


def _distance(got, ref):
    import numpy as np
    max_ref = float(np.max(np.abs(ref)))
    max_diff = float(np.max(np.abs(got.astype(np.float64) - ref.astype(np.float64))))
    return {"max_abs_diff": max_diff, "max_abs_ref": max_ref,
            "relative": max_diff / max_ref if max_ref > 0 else None,
            "relative_to_max1": max_diff / max(1.0, max_ref)}


def _model_info(model_path):
    """(input (index, name, shape), [(index, name, shape, producer op index, producer name)])."""
    from ai_edge_litert import schema_py_generated as S
    with open(model_path, "rb") as f:
        buf = f.read()
    m = S.Model.GetRootAsModel(buf, 0)
    sg = m.Subgraphs(0)
    names = {v: k for k, v in S.BuiltinOperator.__dict__.items() if not k.startswith("_")}
    producer = {}
    for i in range(sg.OperatorsLength()):
        op = sg.Operators(i)
        oc = m.OperatorCodes(op.OpcodeIndex())
        code = max(oc.BuiltinCode(), oc.DeprecatedBuiltinCode())
        name = f"CUSTOM({oc.CustomCode().decode()})" if oc.CustomCode() else names.get(code, str(code))
        for j in range(op.OutputsLength()):
            producer[op.Outputs(j)] = (i, name)

    def info(t):
        tensor = sg.Tensors(t)
        return t, tensor.Name().decode(), [int(d) for d in tensor.ShapeAsNumpy()]
    inp = info(sg.Inputs(0))
    outs = [info(sg.Outputs(j)) + producer.get(sg.Outputs(j), (None, None)) for j in range(sg.OutputsLength())]
    return inp, outs


def _write_fixture(out_dir, model_path, image_path, x, outputs, extra):
    """outputs: {tensor name: float32 array}; extra: manifest fields."""
    import numpy as np
    os.makedirs(out_dir, exist_ok=True)
    (in_index, in_name, in_shape), outs = _model_info(model_path)
    stored = _stored_input(x)
    entry_in = {"file": "input.npy", "name": in_name, "index": in_index, "shape": in_shape,
                "dtype": "float32", "role": "input", "producer_op_index": None, "producer_op_name": None}
    manifest = {"model": os.path.basename(model_path), "model_sha256": sha256(model_path)}
    if stored is not None:
        np.save(os.path.join(out_dir, "input.npy"), stored.reshape(in_shape))
        entry_in["stored_dtype"] = "uint8"
        s, sb = _f32_record(1.0 / 255.0)
        o, ob = _f32_record(0.0)
        manifest["input_transform"] = {
            "formula": "x = Float32(p) * scale + offset, float32, multiply then add, each rounded (no FMA)",
            "scale": s, "scale_bits": sb, "offset": o, "offset_bits": ob}
    else:
        np.save(os.path.join(out_dir, "input.npy"), x.reshape(in_shape).astype(np.float32))
    tensors = [entry_in]
    for index, name, shape, pidx, pname in outs:
        arr = outputs[name].astype(np.float32).reshape(shape)
        np.save(os.path.join(out_dir, f"{name}.npy"), arr)
        tensors.append({"file": f"{name}.npy", "name": name, "index": index, "shape": shape,
                        "dtype": "float32", "role": "output", "producer_op_index": pidx, "producer_op_name": pname})
    manifest["source"] = {"image": os.path.basename(image_path), "image_sha256": sha256(image_path),
                          "preprocessing": "MediaPipe's own ImageToTensorCalculator inside the solution graph "
                                           "(the model input tensor is tapped, not recomputed)"}
    manifest["tensors"] = tensors
    manifest.update(extra)
    with open(os.path.join(out_dir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")


def stage_finish(args):
    import numpy as np
    stem = os.path.splitext(os.path.basename(args.image))[0]
    for model in SELFIE.values():
        src = os.path.join(args.models, "selfie_segmentation", model + ".tflite")
        x = np.load(os.path.join(args.raw, f"{model}_input.npy"))
        mp_out = np.load(os.path.join(args.raw, f"{model}_output.npy"))
        with tempfile.TemporaryDirectory() as tmp:
            eq = os.path.join(tmp, model + "_builtin_transpose_conv.tflite")
            rewritten = _builtin_equivalent(src, eq)
            builtin = _litert_run(_interpreter(eq, False), x)
            xnn = _litert_run(_interpreter(eq, True), x)
        (_, _, _), outs = _model_info(src)
        index, name = outs[0][0], outs[0][1]
        ref = builtin[index].reshape(-1)
        d_x = _distance(xnn[index].reshape(-1), ref)
        d_mp = _distance(mp_out.reshape(-1), ref)
        print(f"{model} {name}: xnnpack vs builtin {d_x['relative_to_max1']:.3e}, "
              f"MediaPipe graph vs builtin {d_mp['relative_to_max1']:.3e} (relative to max(1, max|ref|))")
        _write_fixture(os.path.join(args.out, model, stem), src, args.image, x, {name: ref}, {
            "runtime": "ai-edge-litert (builtin kernels, 1 thread) on an equivalent builtin model",
            "reference": "LiteRT builtin kernels on a copy of the model whose Convolution2DTransposeBias "
                         f"(operators {[i for i, _ in rewritten]}) is rewritten to TRANSPOSE_CONV with bias; "
                         "input tapped from mp.solutions.selfie_segmentation's graph",
            "xnnpack_vs_builtin": [dict(output=name, **d_x)],
            "mediapipe_graph_vs_builtin": [dict(output=name, **d_mp)],
            "label": f"{model} on {stem} (MediaPipe graph input)",
        })
    src = os.path.join(args.models, "face_landmark", FACE + ".tflite")
    x = np.load(os.path.join(args.raw, f"{FACE}_input.npy"))
    outputs = {name: np.load(os.path.join(args.raw, f"{FACE}_{name}.npy")) for name, _ in FACE_OUTPUTS}
    _write_fixture(os.path.join(args.out, FACE, stem), src, args.image, x, outputs, {
        "runtime": "mediapipe 0.10.14 (InferenceCalculatorCpu, XNNPACK delegate, MediaPipe custom-op resolver)",
        "reference": "mp.solutions.face_mesh graph with refine_landmarks=True: input and output tensors tapped "
                     "with TensorsToFloatsCalculator; no builtin-kernel run exists for this model",
        "label": f"{FACE} on {stem} (MediaPipe graph)",
    })
    print(f"{FACE}: wrote {len(outputs)} outputs")
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("stage", choices=["all", "tap", "finish"])
    ap.add_argument("--image", required=True, help="RGB image with a person and a face")
    ap.add_argument("--out", default="Tests/RuntimeTests/Fixtures", help="fixture root")
    ap.add_argument("--raw", help="folder for the tapped tensors (default: a temporary folder)")
    ap.add_argument("--models", default=os.environ.get("MEDIAPIPE_MODELS", "/tmp/wheel/x/mediapipe/modules"),
                    help="the wheel's mediapipe/modules folder (holds selfie_segmentation/, face_landmark/)")
    args = ap.parse_args(argv)
    if args.stage == "tap":
        return stage_tap(args)
    if args.stage == "finish":
        return stage_finish(args)
    def venv_python(script):   # the folder's venv.sh creates or reuses the venv and prints its python last
        out = subprocess.run(["bash", os.path.join(TOOLS, script)], check=True, stdout=subprocess.PIPE, text=True).stdout
        return out.strip().splitlines()[-1]
    venv_mp = venv_python("mediapipe/venv.sh")
    venv_lr = venv_python("litert/venv.sh")
    with tempfile.TemporaryDirectory() as tmp:
        raw = args.raw or tmp
        common = ["--image", args.image, "--out", args.out, "--raw", raw, "--models", args.models]
        subprocess.run([venv_mp, __file__, "tap"] + common, check=True)
        subprocess.run([venv_lr, __file__, "finish"] + common, check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
