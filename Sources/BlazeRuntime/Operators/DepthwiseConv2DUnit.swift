import BlazeKernels
import TFLite

/// DEPTHWISE_CONV_2D: input NHWC `[N, H, W, C]`, filter `[1, kH, kW, C·m]`, optional bias `[C·m]`,
/// output `[N, H', W', C·m]` (`DepthwiseConv2DOperator`). Fusions: a folded PAD, a following RELU,
/// a following per-channel PRELU.
struct DepthwiseConv2DUnit: OperatorUnit {
    static let kind = OperatorKind.builtin(.depthwiseConv2D)
    /// `DepthwiseConv2DOptions`: padding 0, stride_w 1, stride_h 2, depth_multiplier 3,
    /// fused_activation_function 4, dilation_w 5, dilation_h 6.
    static let unionType: UInt8 = 2

    let window: WindowOptions
    let depthMultiplier: Int
    let activation: FusedActivation

    init(site: OperatorSite) throws {
        try site.requireOptions(Self.unionType)
        let o = site.op.options
        window = WindowOptions(padding: try Padding(field: 0, of: site),
                               strideHeight: try o.int(2, "stride_h"), strideWidth: try o.int(1, "stride_w"),
                               dilationHeight: try o.int(6, "dilation_h_factor", default: 1),
                               dilationWidth: try o.int(5, "dilation_w_factor", default: 1))
        depthMultiplier = try o.int(3, "depth_multiplier")
        activation = try FusedActivation(field: 4, of: site)
    }

    var fusedActivation: FusedActivation? { activation }

    func parameters(inputShapes: [[Int]], outputShapes: [[Int]]) -> String {
        let filter = inputShapes.count > 1 ? inputShapes[1] : []
        return (filter.count == 4 ? "kernel \(filter[1])x\(filter[2]) " : "") + window.text + " mult \(depthMultiplier)"
    }

    func flops(inputShapes: [[Int]], outputShapes: [[Int]]) -> Double {
        let filter = inputShapes.count > 1 ? inputShapes[1] : []
        guard filter.count == 4 else { return 0 }
        return 2 * ShapeMath.count(outputShapes.first ?? []) * Double(filter[1]) * Double(filter[2])
    }

    func fusionFacts(_ graph: GraphBuilder, _ site: OperatorSite) -> FusionFacts {
        FusionFacts(absorbsRelu: activation == .none, acceptsExplicitPadding: window.padding == .valid,
                    absorbsPrelu: true,
                    pointwiseRowsMinBytes: window.strideHeight == 1 ? FusionPlan.unitStridePointwiseDepthwiseMinBytes
                                                                    : FusionPlan.pointwiseDepthwiseMinBytes)
    }

    func prepare(_ graph: inout GraphBuilder, _ site: OperatorSite) throws -> PreparedStep? {
        try site.arity(inputs: 2...3)
        let x = try graph.activation(try graph.fusedInput(site), "input", site)
        let y = try graph.activation(graph.fusedOutput(site), "output", site)
        let (conv, flops) = try makeOperator(&graph, site, inputShape: try graph.shape(x))
        try graph.checkOutput(y, conv.outputShape.dims, site)
        graph.requestScratch(conv.scratchCount(threads: graph.options.threads))
        return PreparedStep(flops: flops) { offset in
            let xo = offset(x), yo = offset(y)
            return { arena, scratch, pool in conv.run(input: arena + xo, output: arena + yo, scratch: scratch, pool: pool) }
        }
    }

    /// The kernel for this operator reading an NHWC input of `inputShape` (the graph's, or a
    /// fused pointwise conv's output), with its folded PAD, RELU and PRELU, and its FLOPs.
    /// `rowPathOnly` as in `DepthwiseConv2DOperator.init`. Checks arity, weights and bias.
    func makeOperator(_ graph: inout GraphBuilder, _ site: OperatorSite, inputShape: [Int],
                      rowPathOnly: Bool = false) throws -> (DepthwiseConv2DOperator, flops: Double) {
        try site.arity(inputs: 2...3)
        // Bias count: the last dimension of the 1HWO weights.
        let (wShape, weights, bias) = try graph.convolutionConstants(site) { $0.last ?? 0 }
        let act = graph.fusedActivation(site, own: activation)
        let padding = graph.fusedPadding(site, own: window.padding)
        // A folded PRELU's alpha: `[…, 1, C·m]`, one value per output channel (checked by the planner).
        let preluAlpha = try graph.fusion.prelu[site.index].map { try graph.constantFloats($0, "PRELU alpha", site) }
        let conv = try graph.kernel(site) {
            try DepthwiseConv2DOperator(inputShape: inputShape, weights: weights, weightsShape: wShape, bias: bias,
                                        depthMultiplier: depthMultiplier,
                                        strideHeight: window.strideHeight, strideWidth: window.strideWidth,
                                        dilationHeight: window.dilationHeight, dilationWidth: window.dilationWidth,
                                        padding: padding, activation: act, preluAlpha: preluAlpha,
                                        rowPathOnly: rowPathOnly, store: graph.weightStore)
        }
        let kernelArea = wShape.count == 4 ? wShape[1] * wShape[2] : 0
        return (conv, 2.0 * Double(conv.outputShape.elementCount) * Double(kernelArea))
    }
}
