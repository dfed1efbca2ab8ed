import BlazeKernels
import TFLite

/// CONV_2D: input NHWC `[N, H, W, I]`, filter OHWI `[O, kH, kW, I]`, optional bias `[O]`, output
/// NHWC `[N, H', W', O]`. Weights are prepacked at load for the GEMM or a direct kernel
/// (`Conv2DOperator`). Fusions: a folded PAD (explicit padding), a residual ADD in the GEMM
/// epilogue, a following RELU, a following per-channel PRELU (last in the epilogue).
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
                           acceptsResidual: true, absorbsPrelu: true)
    }

    func prepare(_ graph: inout GraphBuilder, _ site: OperatorSite) throws -> PreparedStep? {
        try site.arity(inputs: 2...3)
        let x = try graph.activation(try graph.fusedInput(site), "input", site)
        let y = try graph.activation(graph.fusedOutput(site), "output", site)
        // OHWI weights `[O, KH, KW, I]`: a valid 4-D shape is read as O rows straight into the packed
        // panels (no float32 copy); anything else goes through the array path, whose kernel reports it.
        let wT = site.op.inputs[1]
        guard graph.isValidTensor(wT) else { throw site.fail("weights tensor index \(wT) is out of range") }
        let wShape = graph.subgraph.tensors[wT].shape
        let byRows = wShape.count == 4 && wShape.allSatisfy { $0 > 0 }
            && GraphValidation.checkedCount(wShape) == graph.constants.sources[wT]?.count
        let weightRows = byRows ? try graph.constantRows(wT, "weights", site, rowCount: wShape[0]) : nil
        let weightValues = byRows ? nil : try graph.constantFloats(wT, "weights", site)
        // Bias `[O]` (zeros when absent).
        let bias = site.op.inputs.count > 2 && site.op.inputs[2] >= 0
            ? try graph.constantFloats(site.op.inputs[2], "bias", site)
            : [Float](repeating: 0, count: wShape.first ?? 0)
        let xShape = try graph.shape(x)
        let act = graph.fusedActivation(site, own: activation)
        let padding = graph.fusedPadding(site, own: window.padding)
        let backend = graph.options.gemmBackend
        // A folded PRELU's alpha: `[…, 1, O]`, one value per output channel (checked by the planner).
        let preluAlpha = try graph.fusion.prelu[site.index].map { try graph.constantFloats($0, "PRELU alpha", site) }
        let conv = try graph.kernel(site) {
            if let weightRows {
                return try Conv2DOperator(inputShape: xShape, weights: weightRows, weightsShape: wShape, bias: bias,
                                          strideHeight: window.strideHeight, strideWidth: window.strideWidth,
                                          dilationHeight: window.dilationHeight, dilationWidth: window.dilationWidth,
                                          padding: padding, activation: act, backend: backend, preluAlpha: preluAlpha,
                                          store: graph.weightStore)
            }
            return try Conv2DOperator(inputShape: xShape, weights: weightValues ?? [], weightsShape: wShape, bias: bias,
                                      strideHeight: window.strideHeight, strideWidth: window.strideWidth,
                                      dilationHeight: window.dilationHeight, dilationWidth: window.dilationWidth,
                                      padding: padding, activation: act, backend: backend, preluAlpha: preluAlpha)
        }
        try graph.checkOutput(y, conv.outputShape.dims, site)
        let flops = 2.0 * Double(conv.outputShape.elementCount) * Double(wShape.dropFirst().reduce(1, *))
        // The sparse kernel (opt-in) needs the weights as an array.
        let sparse = graph.options.sparseConvolutions == .off ? nil
            : try sparseKernel(graph, site, dense: conv, weights: weightValues ?? weightRows?.array() ?? [], weightsShape: wShape,
                               bias: bias, activation: act)
        if byRows { graph.doneReading(wT) }
        if let sparse {
            graph.requestScratch(sparse.scratchCount(threads: graph.options.threads))
        } else {
            graph.requestScratch(conv.scratchCount(threads: graph.options.threads))
        }
        let variant = sparse.map { "sparse \(Int((100 * $0.zeroFraction).rounded()))%" }
        if let skip = graph.fusion.residual[site.index] {
            // Fused ADD: the planner saw the skip tensor as read by this step.
            let s = try graph.activation(skip.tensor, "residual", site), ld = conv.outputShape.channels
            let skipActivation = skip.activation
            try graph.checkOutput(s, conv.outputShape.dims, site)
            if let sparse {
                return PreparedStep(flops: flops, bind: { offset in
                    let xo = offset(x), yo = offset(y), so = offset(s)
                    return { arena, scratch, pool in
                        // Scratch is always planned (scratchCount ≥ 1 float per thread).
                        guard let scratch else { preconditionFailure("sparse CONV_2D: no scratch buffer") }
                        sparse.run(input: arena + xo, output: arena + yo, scratch: scratch, pool: pool,
                                   residual: GemmResidual(data: arena + so, ld: ld, activation: skipActivation))
                    }
                }, variant: variant)
            }
            return PreparedStep(flops: flops) { offset in
                let xo = offset(x), yo = offset(y), so = offset(s)
                return { arena, scratch, pool in
                    conv.run(input: arena + xo, output: arena + yo, scratch: scratch, pool: pool,
                             residual: GemmResidual(data: arena + so, ld: ld, activation: skipActivation))
                }
            }
        }
        if let sparse {
            return PreparedStep(flops: flops, bind: { offset in
                let xo = offset(x), yo = offset(y)
                return { arena, scratch, pool in
                    guard let scratch else { preconditionFailure("sparse CONV_2D: no scratch buffer") }
                    sparse.run(input: arena + xo, output: arena + yo, scratch: scratch, pool: pool)
                }
            }, variant: variant)
        }
        return PreparedStep(flops: flops) { offset in
            let xo = offset(x), yo = offset(y)
            return { arena, scratch, pool in conv.run(input: arena + xo, output: arena + yo, scratch: scratch, pool: pool) }
        }
    }

    /// The sparse 1×1 kernel for this conv, or nil to keep the dense one. Considered only when
    /// `InterpreterOptions.sparseConvolutions` is not `.off`, the conv is pointwise (1×1, stride 1,
    /// unpadded) with more than one output channel and no fused PRELU, and at least half of its
    /// weights are zero.
    /// With the native GEMM both kernels give the same bits (same k order; a zero weight adds +0),
    /// so each is timed on this layer's shape at load and the faster is kept. With OpenBLAS the
    /// bits differ, so the choice must not depend on timing: the fixed rule there is to stay dense.
    func sparseKernel(_ graph: GraphBuilder, _ site: OperatorSite, dense: Conv2DOperator, weights: [Float],
                      weightsShape: [Int], bias: [Float], activation: FusedActivation) throws -> SparseConv1x1Operator? {
        guard graph.options.sparseConvolutions != .off, dense.backend == .native, dense.isPointwise,
              dense.outputShape.channels > 1, !dense.hasFusedPrelu else { return nil }
        let zeros = weights.reduce(0) { $0 + ($1 == 0 ? 1 : 0) }
        guard 2 * zeros >= weights.count else { return nil }
        let sparse = try graph.kernel(site) {
            try SparseConv1x1Operator(inputShape: dense.inputShape.dims, weights: weights, weightsShape: weightsShape,
                                      bias: bias, activation: activation)
        }
        let faster = SparseChoice.sparseIsFaster(dense: dense, sparse: sparse)
        return faster || graph.options.sparseConvolutions == .always ? sparse : nil
    }
}

/// Load-time timing of the dense and the sparse kernel of one 1×1 conv (identical bits, so the
/// outcome only affects speed).
enum SparseChoice {
    /// Times the dense kernel and the sparse one at each tile size (8, 4, 2, 1 pixel groups) on one
    /// thread: one warm-up run each, then the best of 2 alternating rounds. Leaves `sparse` on its
    /// fastest tile size; true when that beats the dense kernel.
    static func sparseIsFaster(dense: Conv2DOperator, sparse: SparseConv1x1Operator) -> Bool {
        let pool = ThreadPool(threads: 1)
        // input: NHWC [N, H, W, I]; output: NHWC [N, H, W, O]; scratch: either kernel's need.
        let inputCount = dense.inputShape.elementCount, outputCount = dense.outputShape.elementCount
        let scratchCount = max(1, dense.scratchCount(threads: 1), sparse.scratchCount(threads: 1))
        let input = UnsafeMutablePointer<Float>.allocate(capacity: max(1, inputCount))
        let output = UnsafeMutablePointer<Float>.allocate(capacity: max(1, outputCount))
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: scratchCount)
        defer { input.deallocate(); output.deallocate(); scratch.deallocate() }
        for i in 0..<inputCount { input[i] = Float(i % 17) * 0.125 - 1 }
        scratch.initialize(repeating: 0, count: scratchCount)
        func time(_ body: () -> Void) -> Duration {
            let clock = ContinuousClock()
            let start = clock.now
            body()
            return clock.now - start
        }
        let candidates = [8, 4, 2, 1]
        var bestDense = Duration.seconds(1000)
        var bestSparse = [Duration](repeating: .seconds(1000), count: candidates.count)
        for round in 0..<3 {
            let d = time { dense.run(input: input, output: output, scratch: scratch, pool: pool) }
            if round > 0 { bestDense = min(bestDense, d) }
            for (c, groups) in candidates.enumerated() {
                sparse.tileGroups = groups
                let s = time { sparse.run(input: input, output: output, scratch: scratch, pool: pool) }
                if round > 0 { bestSparse[c] = min(bestSparse[c], s) }
            }
        }
        let pick = bestSparse.indices.min { bestSparse[$0] < bestSparse[$1] } ?? 0
        sparse.tileGroups = candidates[pick]
        return bestSparse[pick] < bestDense
    }
}
