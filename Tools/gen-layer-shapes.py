#!/usr/bin/env python3
"""Generate Tests/KernelTests/LayerShapes.swift: the real layer shapes of the BlazePose models.

Why: the kernel tests compare each optimized kernel with its naive twin on the exact
shapes, strides, paddings and activations that the three BlazePose models use.

How: LiteRT's Python interpreter (`ai-edge-litert`) gives the op list and the tensor
shapes; the operator options (stride, padding, activation, ...) are not exposed by the
interpreter, so they are read from the same file with the FlatBuffers object API that
ships inside `ai_edge_litert` (`schema_py_generated`). The op order of both is the
order of subgraph 0's operator vector, and the script checks that the op names agree.

Usage (the script creates its venv Tools/.venv-litert on first run and re-runs itself there):
    python3 Tools/gen-layer-shapes.py
"""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.path.join(ROOT, "Tools", ".venv-litert")
VENV_PYTHON = os.path.join(VENV, "bin", "python")


def ensure_venv():
    """Re-executes this script inside Tools/.venv-litert, creating it (with ai-edge-litert) if needed."""
    if os.path.realpath(sys.prefix) == os.path.realpath(VENV):
        return
    if not os.path.exists(VENV_PYTHON):
        subprocess.check_call([sys.executable, "-m", "venv", VENV])
        subprocess.check_call([VENV_PYTHON, "-m", "pip", "install", "--quiet", "ai-edge-litert"])
    os.execv(VENV_PYTHON, [VENV_PYTHON, os.path.abspath(__file__)] + sys.argv[1:])


ensure_venv()

try:
    from ai_edge_litert.interpreter import Interpreter, OpResolverType
    from ai_edge_litert import schema_py_generated as schema
except ImportError:
    sys.exit(f"ai-edge-litert missing in {VENV}: delete that folder and run the script again")

MODELS = ["pose_detection", "pose_landmark_lite", "pose_landmark_full"]
PADDING = {0: ".same", 1: ".valid"}
ACT = {0: ".none", 1: ".relu", 2: ".reluN1To1", 3: ".relu6"}


def shape(td, i):
    return [int(x) for x in td[i]["shape"]]


def swift_list(xs):
    return "[" + ", ".join(str(x) for x in xs) + "]"


def main():
    rows = {k: [] for k in ["conv", "dw", "add", "pad", "pool", "resize", "d2s", "concat", "unary"]}
    for name in MODELS:
        path = os.path.join(ROOT, "weights", name + ".tflite")
        if not os.path.exists(path):
            sys.exit(f"missing {path}: run bash Tools/setup.sh")
        # No default delegate: XNNPACK would fold ops into one node and hide the op list.
        it = Interpreter(model_path=path, experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
        it.allocate_tensors()
        td = {t["index"]: t for t in it.get_tensor_details()}
        ops = it._get_ops_details()
        with open(path, "rb") as f:
            model = schema.ModelT.InitFromPackedBuf(bytearray(f.read()), 0)
        sub = model.subgraphs[0]
        assert len(sub.operators) == len(ops), "op count mismatch"
        seen = {}

        def emit(kind, text):
            key = (kind, text)
            if key in seen:
                seen[key][0] += 1
            else:
                seen[key] = [1]
                rows[kind].append((name, text, seen[key]))

        for idx, (od, fop) in enumerate(zip(ops, sub.operators)):
            op = od["op_name"]
            code = model.operatorCodes[fop.opcodeIndex]
            bcode = max(code.builtinCode, code.deprecatedBuiltinCode)
            assert getattr(schema.BuiltinOperator, op) == bcode, f"op {idx}: {op} vs {bcode}"
            opt = fop.builtinOptions
            ins, outs = list(od["inputs"]), list(od["outputs"])
            if op == "CONV_2D":
                i, w, o = shape(td, ins[0]), shape(td, ins[1]), shape(td, outs[0])
                emit("conv", f"input: {swift_list(i)}, weights: {swift_list(w)}, output: {swift_list(o)}, "
                     f"stride: ({opt.strideH}, {opt.strideW}), dilation: ({opt.dilationHFactor}, {opt.dilationWFactor}), "
                     f"padding: {PADDING[opt.padding]}, activation: {ACT[opt.fusedActivationFunction]}")
            elif op == "DEPTHWISE_CONV_2D":
                i, w, o = shape(td, ins[0]), shape(td, ins[1]), shape(td, outs[0])
                emit("dw", f"input: {swift_list(i)}, weights: {swift_list(w)}, output: {swift_list(o)}, "
                     f"stride: ({opt.strideH}, {opt.strideW}), dilation: ({opt.dilationHFactor}, {opt.dilationWFactor}), "
                     f"padding: {PADDING[opt.padding]}, activation: {ACT[opt.fusedActivationFunction]}, "
                     f"depthMultiplier: {opt.depthMultiplier}")
            elif op == "ADD":
                emit("add", f"a: {swift_list(shape(td, ins[0]))}, b: {swift_list(shape(td, ins[1]))}, "
                     f"output: {swift_list(shape(td, outs[0]))}, activation: {ACT[opt.fusedActivationFunction]}")
            elif op == "PAD":
                pads = it.get_tensor(ins[1]).tolist()
                emit("pad", f"input: {swift_list(shape(td, ins[0]))}, paddings: {pads}, "
                     f"output: {swift_list(shape(td, outs[0]))}")
            elif op == "MAX_POOL_2D":
                emit("pool", f"input: {swift_list(shape(td, ins[0]))}, output: {swift_list(shape(td, outs[0]))}, "
                     f"filter: ({opt.filterHeight}, {opt.filterWidth}), stride: ({opt.strideH}, {opt.strideW}), "
                     f"padding: {PADDING[opt.padding]}, activation: {ACT[opt.fusedActivationFunction]}")
            elif op == "RESIZE_BILINEAR":
                emit("resize", f"input: {swift_list(shape(td, ins[0]))}, output: {swift_list(shape(td, outs[0]))}, "
                     f"alignCorners: {str(bool(opt.alignCorners)).lower()}, "
                     f"halfPixelCenters: {str(bool(opt.halfPixelCenters)).lower()}")
            elif op == "DEPTH_TO_SPACE":
                emit("d2s", f"input: {swift_list(shape(td, ins[0]))}, output: {swift_list(shape(td, outs[0]))}, "
                     f"blockSize: {opt.blockSize}")
            elif op == "CONCATENATION":
                inputs = "[" + ", ".join(swift_list(shape(td, x)) for x in ins) + "]"
                emit("concat", f"inputs: {inputs}, output: {swift_list(shape(td, outs[0]))}, axis: {opt.axis}, "
                     f"activation: {ACT[opt.fusedActivationFunction]}")
            elif op in ("RELU", "RELU6", "LOGISTIC"):
                emit("unary", f"op: .{op.lower()}, shape: {swift_list(shape(td, ins[0]))}")

    out = ["// GENERATED by Tools/gen-layer-shapes.py from weights/*.tflite -- do not edit.",
           "// Every distinct layer configuration of the three BlazePose models; `count` is how",
           "// many ops of that model share it. Shapes are NHWC; conv weights OHWI, depthwise [1,KH,KW,C*M].",
           "", "// swiftlint:disable all", ""]
    decl = {
        "conv": ("ConvShape", "realConvShapes"), "dw": ("DepthwiseShape", "realDepthwiseShapes"),
        "add": ("AddShape", "realAddShapes"), "pad": ("PadShape", "realPadShapes"),
        "pool": ("PoolShape", "realPoolShapes"), "resize": ("ResizeShape", "realResizeShapes"),
        "d2s": ("DepthToSpaceShape", "realDepthToSpaceShapes"), "concat": ("ConcatShape", "realConcatShapes"),
        "unary": ("UnaryShape", "realUnaryShapes"),
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
