#!/usr/bin/env python3
"""Generate Tests/KernelTests/LayerShapes.swift: the real layer shapes of every float model.

Why: the kernel tests compare each optimized kernel with its naive twin on the exact
shapes, strides, paddings, axes, masks and activations that the models use: the three
BlazePose models in weights/ and the other float models of the mediapipe 0.10.14 wheel
(face detection, face landmark (+ attention), iris, palm detection, hand landmark, hand
recrop, selfie segmentation (+ landscape)).

How: everything is read from the .tflite files with the FlatBuffers object API that ships
inside `ai_edge_litert` (`schema_py_generated`): the operator list of subgraph 0, the
tensor shapes recorded in the file (all these models have static shapes), the operator
options, and the constant index tensors (PAD paddings, MEAN axes, STRIDED_SLICE
begin/end/strides). No interpreter is needed, so models with MediaPipe custom ops are
covered too.

Where the models are found: weights/<name>.tflite for the BlazePose models; the wheel's
models in weights/mediapipe/ (flat or in per-module folders), else the unpacked wheel named
by --wheel DIR (its mediapipe/modules/ folder, default /tmp/wheel/x/mediapipe/modules).

Usage (the script re-runs itself in Tools/.venv-litert, created or reused by Tools/litert/venv.sh):
    python3 Tools/gen-layer-shapes.py [--wheel DIR]
"""
import glob
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.path.join(ROOT, "Tools", ".venv-litert")


def ensure_venv():
    """Re-executes this script inside Tools/.venv-litert, which Tools/litert/venv.sh creates or reuses."""
    if os.path.realpath(sys.prefix) == os.path.realpath(VENV):
        return
    out = subprocess.check_output(["bash", os.path.join(ROOT, "Tools", "litert", "venv.sh")], text=True)
    python = out.strip().splitlines()[-1]
    os.execv(python, [python, os.path.abspath(__file__)] + sys.argv[1:])


ensure_venv()

try:
    import numpy as np
    from ai_edge_litert import schema_py_generated as schema
except ImportError:
    sys.exit(f"ai-edge-litert missing in {VENV}: run bash Tools/litert/venv.sh")

# BlazePose models (weights/), then the wheel's other float models, in a fixed order.
POSE_MODELS = ["pose_detection", "pose_landmark_lite", "pose_landmark_full"]
WHEEL_MODELS = [
    "face_detection_short_range", "face_detection_full_range_sparse", "face_landmark",
    "face_landmark_with_attention", "iris_landmark", "palm_detection_lite", "palm_detection_full",
    "hand_landmark_lite", "hand_landmark_full", "hand_recrop", "selfie_segmentation",
    "selfie_segmentation_landscape",
]
PADDING = {0: ".same", 1: ".valid"}
ACT = {0: ".none", 1: ".relu", 2: ".reluN1To1", 3: ".relu6"}
UNARY = {"RELU": ".relu", "RELU6": ".relu6", "LOGISTIC": ".logistic", "HARD_SWISH": ".hardSwish"}
OP_NAMES = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
# TFLite TensorType -> numpy dtype, for the constant index tensors.
DTYPES = {0: np.float32, 2: np.int32, 4: np.int64}


def model_path(name, wheel):
    if name in POSE_MODELS:
        return os.path.join(ROOT, "weights", name + ".tflite")
    for pattern in [os.path.join(ROOT, "weights", "mediapipe", name + ".tflite"),
                    os.path.join(ROOT, "weights", "mediapipe", "*", name + ".tflite"),
                    os.path.join(wheel, "*", name + ".tflite")]:
        found = sorted(glob.glob(pattern))
        if found:
            return found[0]
    sys.exit(f"missing {name}.tflite: not in weights/mediapipe/ nor under {wheel} (pass --wheel DIR)")


def swift_list(xs):
    return "[" + ", ".join(str(x) for x in xs) + "]"


def main():
    wheel = "/tmp/wheel/x/mediapipe/modules"
    args = sys.argv[1:]
    if args[:1] == ["--wheel"] and len(args) == 2:
        wheel = args[1]
    elif args:
        sys.exit("usage: gen-layer-shapes.py [--wheel DIR]")
    kinds = ["conv", "dw", "add", "mul", "prelu", "pad", "pool", "avgpool", "resize", "d2s", "concat", "unary",
             "mean", "fc", "slice", "tconv"]
    rows = {k: [] for k in kinds}
    for name in POSE_MODELS + WHEEL_MODELS:
        path = model_path(name, wheel)
        with open(path, "rb") as f:
            model = schema.ModelT.InitFromPackedBuf(bytearray(f.read()), 0)
        sub = model.subgraphs[0]
        seen = {}

        def shape(i):
            return [int(x) for x in sub.tensors[i].shape]

        def const(i):
            t = sub.tensors[i]
            data = model.buffers[t.buffer].data
            assert data is not None and t.type in DTYPES, f"{name}: tensor {i} is not a constant int/float tensor"
            return np.frombuffer(bytes(data), dtype=DTYPES[t.type]).tolist()

        def emit(kind, text):
            key = (kind, text)
            if key in seen:
                seen[key][0] += 1
            else:
                seen[key] = [1]
                rows[kind].append((name, text, seen[key]))

        for idx, fop in enumerate(sub.operators):
            code = model.operatorCodes[fop.opcodeIndex]
            op = OP_NAMES[max(code.builtinCode, code.deprecatedBuiltinCode)]
            opt = fop.builtinOptions
            ins, outs = list(fop.inputs), list(fop.outputs)
            if op == "CONV_2D":
                i, w, o = shape(ins[0]), shape(ins[1]), shape(outs[0])
                emit("conv", f"input: {swift_list(i)}, weights: {swift_list(w)}, output: {swift_list(o)}, "
                     f"stride: ({opt.strideH}, {opt.strideW}), dilation: ({opt.dilationHFactor}, {opt.dilationWFactor}), "
                     f"padding: {PADDING[opt.padding]}, activation: {ACT[opt.fusedActivationFunction]}")
            elif op == "DEPTHWISE_CONV_2D":
                i, w, o = shape(ins[0]), shape(ins[1]), shape(outs[0])
                emit("dw", f"input: {swift_list(i)}, weights: {swift_list(w)}, output: {swift_list(o)}, "
                     f"stride: ({opt.strideH}, {opt.strideW}), dilation: ({opt.dilationHFactor}, {opt.dilationWFactor}), "
                     f"padding: {PADDING[opt.padding]}, activation: {ACT[opt.fusedActivationFunction]}, "
                     f"depthMultiplier: {opt.depthMultiplier}")
            elif op in ("ADD", "MUL"):
                emit(op.lower(), f"a: {swift_list(shape(ins[0]))}, b: {swift_list(shape(ins[1]))}, "
                     f"output: {swift_list(shape(outs[0]))}, activation: {ACT[opt.fusedActivationFunction]}")
            elif op == "PRELU":
                emit("prelu", f"input: {swift_list(shape(ins[0]))}, alpha: {swift_list(shape(ins[1]))}, "
                     f"output: {swift_list(shape(outs[0]))}")
            elif op == "PAD":
                pads = np.array(const(ins[1])).reshape(-1, 2).tolist()
                emit("pad", f"input: {swift_list(shape(ins[0]))}, paddings: {pads}, "
                     f"output: {swift_list(shape(outs[0]))}")
            elif op in ("MAX_POOL_2D", "AVERAGE_POOL_2D"):
                emit("pool" if op == "MAX_POOL_2D" else "avgpool",
                     f"input: {swift_list(shape(ins[0]))}, output: {swift_list(shape(outs[0]))}, "
                     f"filter: ({opt.filterHeight}, {opt.filterWidth}), stride: ({opt.strideH}, {opt.strideW}), "
                     f"padding: {PADDING[opt.padding]}, activation: {ACT[opt.fusedActivationFunction]}")
            elif op == "RESIZE_BILINEAR":
                emit("resize", f"input: {swift_list(shape(ins[0]))}, output: {swift_list(shape(outs[0]))}, "
                     f"alignCorners: {str(bool(opt.alignCorners)).lower()}, "
                     f"halfPixelCenters: {str(bool(opt.halfPixelCenters)).lower()}")
            elif op == "DEPTH_TO_SPACE":
                emit("d2s", f"input: {swift_list(shape(ins[0]))}, output: {swift_list(shape(outs[0]))}, "
                     f"blockSize: {opt.blockSize}")
            elif op == "CONCATENATION":
                inputs = "[" + ", ".join(swift_list(shape(x)) for x in ins) + "]"
                emit("concat", f"inputs: {inputs}, output: {swift_list(shape(outs[0]))}, axis: {opt.axis}, "
                     f"activation: {ACT[opt.fusedActivationFunction]}")
            elif op in UNARY:
                emit("unary", f"op: {UNARY[op]}, shape: {swift_list(shape(ins[0]))}")
            elif op == "MEAN":
                emit("mean", f"input: {swift_list(shape(ins[0]))}, axes: {swift_list(const(ins[1]))}, "
                     f"keepDims: {str(bool(opt.keepDims)).lower()}, output: {swift_list(shape(outs[0]))}")
            elif op == "FULLY_CONNECTED":
                has_bias = len(ins) > 2 and ins[2] >= 0
                emit("fc", f"input: {swift_list(shape(ins[0]))}, weights: {swift_list(shape(ins[1]))}, "
                     f"hasBias: {str(has_bias).lower()}, output: {swift_list(shape(outs[0]))}, "
                     f"activation: {ACT[opt.fusedActivationFunction]}, keepNumDims: {str(bool(opt.keepNumDims)).lower()}")
            elif op == "STRIDED_SLICE":
                emit("slice", f"input: {swift_list(shape(ins[0]))}, begin: {swift_list(const(ins[1]))}, "
                     f"end: {swift_list(const(ins[2]))}, strides: {swift_list(const(ins[3]))}, "
                     f"beginMask: {opt.beginMask}, endMask: {opt.endMask}, shrinkAxisMask: {opt.shrinkAxisMask}, "
                     f"output: {swift_list(shape(outs[0]))}")
            elif op == "CUSTOM" and code.customCode == b"Convolution2DTransposeBias":
                # Custom options: MediaPipe reads them as TfLiteTransposeConvParams
                # {int32 padding (1 SAME, 2 VALID), int32 stride_width, int32 stride_height}.
                padding, sw, sh = np.frombuffer(bytes(fop.customOptions[:12]), dtype=np.int32).tolist()
                emit("tconv", f"input: {swift_list(shape(ins[0]))}, weights: {swift_list(shape(ins[1]))}, "
                     f"output: {swift_list(shape(outs[0]))}, stride: ({sh}, {sw}), "
                     f"padding: {PADDING[padding - 1]}")

    out = ["// GENERATED by Tools/gen-layer-shapes.py from the .tflite models -- do not edit.",
           "// Every distinct layer configuration of the three BlazePose models and the mediapipe",
           "// 0.10.14 wheel's other float models; `count` is how many ops of that model share it.",
           "// Shapes are NHWC; conv weights OHWI, depthwise [1,KH,KW,C*M], fully connected [O, I].",
           "", "// swiftlint:disable all", ""]
    decl = {
        "conv": ("ConvShape", "realConvShapes"), "dw": ("DepthwiseShape", "realDepthwiseShapes"),
        "add": ("AddShape", "realAddShapes"), "mul": ("AddShape", "realMulShapes"),
        "prelu": ("PReluShape", "realPReluShapes"), "pad": ("PadShape", "realPadShapes"),
        "pool": ("PoolShape", "realPoolShapes"), "avgpool": ("PoolShape", "realAveragePoolShapes"),
        "resize": ("ResizeShape", "realResizeShapes"),
        "d2s": ("DepthToSpaceShape", "realDepthToSpaceShapes"), "concat": ("ConcatShape", "realConcatShapes"),
        "unary": ("UnaryShape", "realUnaryShapes"), "mean": ("MeanShape", "realMeanShapes"),
        "fc": ("FullyConnectedShape", "realFullyConnectedShapes"),
        "slice": ("StridedSliceShape", "realStridedSliceShapes"),
        "tconv": ("TransposeConvShape", "realTransposeConvBiasShapes"),
    }
    for kind, (typ, var) in decl.items():
        out.append(f"let {var}: [{typ}] = [")
        for model, text, count in rows[kind]:
            out.append(f"    {typ}(model: \"{model}\", count: {count[0]}, {text}),")
        out.append("]")
        out.append("")
    dest = os.path.join(ROOT, "Tests", "KernelTests", "LayerShapes.swift")
    with open(dest, "w") as f:
        f.write("\n".join(out))
    print(f"wrote {dest}: " + ", ".join(f"{k}={len(v)}" for k, v in rows.items()))


if __name__ == "__main__":
    main()
