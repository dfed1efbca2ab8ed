import BlazeKernels
import TFLite

/// MediaPipe's custom `Convolution2DTransposeBias` (selfie segmentation): input NHWC `[N, H, W, I]`,
/// weights OHWI `[O, kH, kW, I]` and bias `[O]` (float constants), output NHWC `[N, H', W', O]`
/// (`TransposeConvBiasOperator`). `custom_options` is a raw little-endian `TfLiteTransposeConvParams`
/// prefix: int32 padding (TfLitePadding: 1 SAME, 2 VALID), int32 stride_w, int32 stride_h.
struct Convolution2DTransposeBiasUnit: OperatorUnit {
    static let kind = OperatorKind.custom("Convolution2DTransposeBias")

    let samePadding: Bool
    let strideHeight: Int, strideWidth: Int

    init(site: OperatorSite) throws {
        let bytes = site.op.options.customBytes
        guard bytes.count >= 12 else {
            throw site.fail("custom_options holds \(bytes.count) bytes; expected 12 (padding, stride_w, stride_h as int32)")
        }
        func int32(_ at: Int) -> Int { Int(Int32(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: Int32.self))) }
        switch int32(0) {
        case 1: samePadding = true
        case 2: samePadding = false
        default: throw site.fail("custom_options padding (byte 0) is \(int32(0)); expected 1 (SAME) or 2 (VALID)")
        }
        strideWidth = int32(4)
        strideHeight = int32(8)
        guard strideWidth > 0 else { throw site.fail("custom_options stride_w (byte 4) is \(strideWidth); must be positive") }
        guard strideHeight > 0 else { throw site.fail("custom_options stride_h (byte 8) is \(strideHeight); must be positive") }
    }

    func parameters(inputShapes: [[Int]], outputShapes: [[Int]]) -> String {
        let filter = inputShapes.count > 1 ? inputShapes[1] : []
        return (filter.count == 4 ? "kernel \(filter[1])x\(filter[2]) " : "")
            + "stride \(strideHeight)x\(strideWidth) pad \(samePadding ? "SAME" : "VALID")"
    }

    func flops(inputShapes: [[Int]], outputShapes: [[Int]]) -> Double {
        let filter = inputShapes.count > 1 ? inputShapes[1] : []
        guard filter.count == 4, let input = inputShapes.first else { return 0 }
        // Every input element meets every kernel tap and output channel once (edge taps cut by padding included).
        return 2 * ShapeMath.count(input) * ShapeMath.count(Array(filter.dropLast()))
    }

    func prepare(_ graph: inout GraphBuilder, _ site: OperatorSite) throws -> PreparedStep? {
        try site.arity(inputs: 3...3)
        let x = try graph.activation(site.op.inputs[0], "input", site)
        let y = try graph.activation(site.op.outputs[0], "output", site)
        let wT = site.op.inputs[1]
        guard graph.isValidTensor(wT) else { throw site.fail("weights tensor index \(wT) is out of range") }
        let wShape = graph.subgraph.tensors[wT].shape
        let weights = try graph.constantFloats(wT, "weights", site)
        let bias = try graph.constantFloats(site.op.inputs[2], "bias", site)
        let xShape = try graph.shape(x)
        let conv = try graph.kernel(site) {
            try TransposeConvBiasOperator(inputShape: xShape, weights: weights, weightsShape: wShape, bias: bias,
                                          strideHeight: strideHeight, strideWidth: strideWidth, samePadding: samePadding)
        }
        try graph.checkOutput(y, conv.outputShape.dims, site)
        let flops = 2.0 * Double(conv.inputShape.elementCount) * Double(wShape.dropLast().reduce(1, *))
        return PreparedStep(flops: flops) { offset in
            let xo = offset(x), yo = offset(y)
            return { arena, _, pool in conv.run(input: arena + xo, output: arena + yo, pool: pool) }
        }
    }
}
