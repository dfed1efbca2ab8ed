import BlazeKernels
import TFLite

/// CONV_2D: input NHWC `[N, H, W, I]`, filter OHWI `[O, kH, kW, I]`, optional bias `[O]`, output
/// NHWC `[N, H', W', O]`. Weights are prepacked at load for the GEMM or a direct kernel
/// (`Conv2DOperator`). Fusions: a folded PAD (explicit padding), a residual ADD in the GEMM
/// epilogue, a following RELU.
struct Conv2DUnit: OperatorUnit {
    static let kind = OperatorKind.builtin(.conv2D)
    /// `Conv2DOptions`: padding 0, stride_w 1, stride_h 2, fused_activation_function 3, dilation_w 4, dilation_h 5.
    static let unionType: UInt8 = 1

    let window: WindowOptions
    let activation: FusedActivation

    init(site: OperatorSite) throws {
        try site.requireOptions(Self.unionType)
        let o = site.op.options
        window = WindowOptions(padding: try Padding(field: 0, of: site),
                               strideHeight: try o.int(2, "stride_h"), strideWidth: try o.int(1, "stride_w"),
                               dilationHeight: try o.int(5, "dilation_h_factor", default: 1),
                               dilationWidth: try o.int(4, "dilation_w_factor", default: 1))
        activation = try FusedActivation(field: 3, of: site)
    }

    var fusedActivation: FusedActivation? { activation }

    func parameters(inputShapes: [[Int]], outputShapes: [[Int]]) -> String {
        let filter = inputShapes.count > 1 ? inputShapes[1] : []
        return (filter.count == 4 ? "kernel \(filter[1])x\(filter[2]) " : "") + window.text
    }

    func flops(inputShapes: [[Int]], outputShapes: [[Int]]) -> Double {
        let filter = inputShapes.count > 1 ? inputShapes[1] : []
        guard filter.count == 4 else { return 0 }
        return 2 * ShapeMath.count(outputShapes.first ?? []) * ShapeMath.count(Array(filter.dropFirst()))
    }

    func fusionFacts(_ graph: GraphBuilder, _ site: OperatorSite) -> FusionFacts {
        // Not into 1-output-channel convs: their direct kernel sums interior and border pixels in
        // different lane orders, so explicit padding there would change some bits.
        let outChannels = site.op.inputs.count > 1 ? graph.staticShape(site.op.inputs[1])?.first : nil
        return FusionFacts(absorbsRelu: activation == .none,
                           acceptsExplicitPadding: window.padding == .valid && (outChannels ?? 1) > 1,
                           acceptsResidual: true)
    }

    func prepare(_ graph: inout GraphBuilder, _ site: OperatorSite) throws -> PreparedStep? {
        try site.arity(inputs: 2...3)
        let x = try graph.activation(try graph.fusedInput(site), "input", site)
        let y = try graph.activation(graph.fusedOutput(site), "output", site)
        let wT = site.op.inputs[1]
        guard graph.isValidTensor(wT) else { throw site.fail("weights tensor index \(wT) is out of range") }
        let wShape = graph.subgraph.tensors[wT].shape
        let weights = try graph.constantFloats(wT, "weights", site)
        let bias = site.op.inputs.count > 2 && site.op.inputs[2] >= 0
            ? try graph.constantFloats(site.op.inputs[2], "bias", site)
            : [Float](repeating: 0, count: wShape.first ?? 0)
        let xShape = try graph.shape(x)
        let act = graph.fusedActivation(site, own: activation)
        let padding = graph.fusedPadding(site, own: window.padding)
        let backend = graph.options.gemmBackend
        let conv = try graph.kernel(site) {
            try Conv2DOperator(inputShape: xShape, weights: weights, weightsShape: wShape, bias: bias,
                               strideHeight: window.strideHeight, strideWidth: window.strideWidth,
                               dilationHeight: window.dilationHeight, dilationWidth: window.dilationWidth,
                               padding: padding, activation: act, backend: backend)
        }
        try graph.checkOutput(y, conv.outputShape.dims, site)
        graph.requestScratch(conv.scratchCount(threads: graph.options.threads))
        let flops = 2.0 * Double(conv.outputShape.elementCount) * Double(wShape.dropFirst().reduce(1, *))
        if let skip = graph.fusion.residual[site.index] {
            // Fused ADD: the planner saw the skip tensor as read by this step.
            let s = try graph.activation(skip.tensor, "residual", site), ld = conv.outputShape.channels
            let skipActivation = skip.activation
            try graph.checkOutput(s, conv.outputShape.dims, site)
            return PreparedStep(flops: flops) { offset in
                let xo = offset(x), yo = offset(y), so = offset(s)
                return { arena, scratch, pool in
                    conv.run(input: arena + xo, output: arena + yo, scratch: scratch, pool: pool,
                             residual: GemmResidual(data: arena + so, ld: ld, activation: skipActivation))
                }
            }
        }
        return PreparedStep(flops: flops) { offset in
            let xo = offset(x), yo = offset(y)
            return { arena, scratch, pool in conv.run(input: arena + xo, output: arena + yo, scratch: scratch, pool: pool) }
        }
    }
}
