import BlazeKernels
import TFLite

/// CONV_2D: input NHWC `[N, H, W, I]`, filter OHWI `[O, kH, kW, I]`, optional bias `[O]`, output
/// NHWC `[N, H', W', O]`. Weights are prepacked at load for the GEMM or a direct kernel
/// (`Conv2DOperator`). Fusions: a folded PAD (explicit padding), a residual ADD in the GEMM
/// epilogue (its skip operand possibly a channel zero-PAD, read unpadded), a following RELU, a
/// following per-channel PRELU (last in the epilogue).
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
        let wShape = site.op.inputs.count > 1 ? graph.staticShape(site.op.inputs[1]) : nil
        let outChannels = wShape?.first
        // A 1×1 stride-1 conv on the native GEMM, or on the sparse kernel, can run a following
        // depthwise conv in row bands.
        let pointwise = wShape.map { $0.count == 4 && $0[1] == 1 && $0[2] == 1 } ?? false
            && window.strideHeight == 1 && window.strideWidth == 1 && graph.options.gemmBackend == .native
        // Such a conv also computes a RESIZE_BILINEAR producing its input: by default on the
        // resize's input, before the resize (`prepareResizedPointwise`); in the graph's order
        // (`convolveBeforeResize` off) the sparse kernel resizes as it transposes its input, and
        // the dense GEMM reads the resized map from scratch.
        return FusionFacts(absorbsRelu: activation == .none,
                           acceptsExplicitPadding: window.padding == .valid && (outChannels ?? 1) > 1,
                           acceptsResidual: true, acceptsChannelPaddedResidual: true, absorbsPrelu: true,
                           feedsDepthwise: pointwise && (outChannels ?? 1) > 1,
                           readsResizedInput: pointwise && (outChannels ?? 1) > 1)
    }

    func prepare(_ graph: inout GraphBuilder, _ site: OperatorSite) throws -> PreparedStep? {
        try site.arity(inputs: 2...3)
        if let pair = graph.fusion.depthwiseAfter[site.index] { return try preparePointwiseDepthwise(&graph, site, pair) }
        if graph.options.convolveBeforeResize, let r = graph.fusion.resizedInput[site.index] {
            return try prepareResizedPointwise(&graph, site, resizeOp: r.op)
        }
        let x = try graph.activation(try graph.fusedInput(site), "input", site)
        let y = try graph.activation(graph.fusedOutput(site), "output", site)
        // A RESIZE_BILINEAR computed by this step (`FusionPlan.resizedInput`): `x` is its input, and
        // the conv's own input (its output) is checked but never stored.
        let resize = try resizeKernel(&graph, site)
        let (wT, wShape, weightRows, weightValues) = try weights(graph, site)
        let byRows = weightRows != nil
        let bias = try biasValues(graph, site, count: wShape.first ?? 0)
        let xShape = try resize?.outputShape.dims ?? graph.shape(x)
        let act = graph.fusedActivation(site, own: activation)
        let padding = graph.fusedPadding(site, own: window.padding)
        // A folded PRELU's alpha: `[…, 1, O]`, one value per output channel (checked by the planner).
        let preluAlpha = try graph.fusion.prelu[site.index].map { try graph.constantFloats($0, "PRELU alpha", site) }
        let (sparse, sparseVariant) = try sparseChoice(graph, site, inputShape: xShape, weights: (wT, wShape, weightRows, weightValues),
                                                       bias: bias, activation: act, hasPrelu: preluAlpha != nil, resize: resize)
        let dense: Conv2DOperator? = sparse != nil ? nil
            : try denseKernel(graph, site, inputShape: xShape, weightRows: weightRows, weightValues: weightValues,
                              weightsShape: wShape, bias: bias, activation: act, padding: padding, preluAlpha: preluAlpha)
        if byRows { graph.doneReading(wT) }
        // `profile`'s variant column: the sparse choice, binary16 weight panels when taken, the resize.
        var variant = sparseVariant
        if dense?.panelPrecision == .float16WhenExact { variant = variant.map { $0 + ", f16-panels" } ?? "f16-panels" }
        if let r = graph.fusion.resizedInput[site.index] { variant = (variant.map { $0 + ", " } ?? "") + "+resize op \(r.op)" }
        guard let outputShape = sparse?.outputShape ?? dense?.outputShape else {
            throw site.fail("no kernel for this conv")   // unreachable: one of the two was built
        }
        try graph.checkOutput(y, outputShape.dims, site)
        let flops = 2.0 * Double(outputShape.elementCount) * Double(wShape.dropFirst().reduce(1, *))
        // The dense GEMM reads a resized input from scratch: `[N, H, W, I]` first (rounded up to
        // 16 floats), then the conv's own scratch.
        let resized = dense == nil ? 0 : ((resize?.outputShape.elementCount ?? 0) + 15) / 16 * 16
        graph.requestScratch(sparse?.scratchCount(threads: graph.options.threads)
                             ?? (resized + (dense?.scratchCount(threads: graph.options.threads) ?? 0)))
        if let skip = try fusedSkip(&graph, site, output: y, input: x, outputShape: outputShape,
                                    mayShareOutput: sparse?.residualMayShareOutput ?? dense?.residualMayShareOutput ?? false) {
            let s = skip.tensor
            if let sparse {
                return PreparedStep(flops: flops, bind: { offset in
                    let xo = offset(x), yo = offset(y), so = offset(s)
                    return { arena, scratch, pool in
                        // Scratch is always planned (scratchCount ≥ 1 float per thread).
                        guard let scratch else { preconditionFailure("sparse CONV_2D: no scratch buffer") }
                        sparse.run(input: arena + xo, output: arena + yo, scratch: scratch, pool: pool,
                                   residual: skip.residual(arena + so))
                    }
                }, variant: variant)
            }
            guard let conv = dense else { throw site.fail("no kernel for this conv") }
            return PreparedStep(flops: flops, bind: { offset in
                let xo = offset(x), yo = offset(y), so = offset(s)
                return { arena, scratch, pool in
                    let (input, scratch) = Self.denseInput(resize, arena + xo, scratch, resized, pool)
                    conv.run(input: input, output: arena + yo, scratch: scratch, pool: pool,
                             residual: skip.residual(arena + so))
                }
            }, variant: variant)
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
        guard let conv = dense else { throw site.fail("no kernel for this conv") }
        // Parts of the output (`InterpreterOptions.partialOutputs`): the plain dense conv on the
        // native GEMM, not one that computes a resize.
        let pixelRuns: PreparedStep.PixelRunsFactory? = resize == nil && conv.computesPixelRuns ? { offset in
            let xo = offset(x), yo = offset(y)
            return { arena, scratch, pool, runs in
                conv.run(input: arena + xo, output: arena + yo, scratch: scratch, pool: pool, pixelRuns: runs)
            }
        } : nil
        return PreparedStep(flops: flops, bind: { offset in
            let xo = offset(x), yo = offset(y)
            return { arena, scratch, pool in
                let (input, scratch) = Self.denseInput(resize, arena + xo, scratch, resized, pool)
                conv.run(input: input, output: arena + yo, scratch: scratch, pool: pool)
            }
        }, variant: variant, bindPixelRuns: pixelRuns)
    }

    /// A fused ADD's skip (`FusionPlan.residual`) as a step reads it: its tensor, row stride and
    /// channels, and the ADD's activation.
    struct FusedSkip {
        let tensor: Int
        /// Floats per skip pixel: the output's channels, or fewer after a folded channel PAD.
        let ld: Int
        /// Channels that hold skip values (`GemmResidual.channels`; `.max`: all of them).
        let channels: Int
        let activation: FusedActivation
        /// The residual at `data`, the skip tensor's first float in the arena.
        func residual(_ data: UnsafePointer<Float>) -> GemmResidual {
            GemmResidual(data: data, ld: ld, activation: activation, channels: channels)
        }
    }

    /// This step's fused ADD, nil without one: the skip checked against `outputShape` (the planner
    /// saw it as read by this step; after a folded channel PAD it is `[N, H', W', C]` with C < O
    /// channels, the others adding +0), and the output offered the skip's memory when the kernel
    /// allows it (`mayShareOutput`) and the skip is as wide as the output.
    func fusedSkip(_ graph: inout GraphBuilder, _ site: OperatorSite, output y: Int, input x: Int, outputShape: NHWCShape,
                   mayShareOutput: Bool) throws -> FusedSkip? {
        guard let skip = graph.fusion.residual[site.index] else { return nil }
        let s = try graph.activation(skip.tensor, "residual", site)
        let ld = skip.channels ?? outputShape.channels
        try graph.checkOutput(s, Array(outputShape.dims.dropLast()) + [ld], site)
        // The output may go into the skip's memory when this step is the skip's last reader.
        if skip.channels == nil, mayShareOutput { graph.offerInPlace(output: y, residual: s, input: x, site) }
        return FusedSkip(tensor: s, ld: ld, channels: skip.channels ?? .max, activation: skip.activation)
    }

    /// The RESIZE_BILINEAR kernel this conv computes (`FusionPlan.resizedInput`; nil: none), built
    /// by that operator's unit (errors name it); its output tensor (this conv's input, never
    /// stored) is checked against the kernel's output shape.
    func resizeKernel(_ graph: inout GraphBuilder, _ site: OperatorSite) throws -> ResizeBilinearOperator? {
        guard let r = graph.fusion.resizedInput[site.index] else { return nil }
        let resizeSite = graph.sites[r.op]
        guard let unit = graph.units[r.op] as? ResizeBilinearUnit else {
            throw resizeSite.fail("fused resize step is not a RESIZE_BILINEAR")   // unreachable: planned from its facts
        }
        let (resize, _) = try unit.makeOperator(&graph, resizeSite)
        try graph.checkOutput(try site.input(0, "input"), resize.outputShape.dims, resizeSite)
        return resize
    }

    /// The dense GEMM's input when the step computes a resize: the resized map, written into the
    /// first `resized` floats of `scratch` (the rest is returned as the conv's scratch); else `x`.
    static func denseInput(_ resize: ResizeBilinearOperator?, _ x: UnsafePointer<Float>, _ scratch: UnsafeMutablePointer<Float>?,
                           _ resized: Int, _ pool: ThreadPool) -> (UnsafePointer<Float>, UnsafeMutablePointer<Float>?) {
        guard let resize else { return (x, scratch) }
        // Planned with the step (`resized` > 0 floats requested): a missing buffer is a programming error.
        guard let scratch else { preconditionFailure("CONV_2D after RESIZE_BILINEAR: no scratch buffer") }
        resize.run(input: x, output: scratch, pool: pool)
        return (UnsafePointer(scratch), scratch + resized)
    }

    /// The weights tensor, its shape, and its values: OHWI `[O, KH, KW, I]` with a valid 4-D shape is
    /// read as O rows straight into the packed panels (no float32 copy; call `doneReading` once
    /// packed); anything else goes through the array path, whose kernel reports it.
    func weights(_ graph: GraphBuilder, _ site: OperatorSite) throws
        -> (tensor: Int, shape: [Int], rows: WeightRows?, values: [Float]?) {
        let wT = site.op.inputs[1]
        guard graph.isValidTensor(wT) else { throw site.fail("weights tensor index \(wT) is out of range") }
        let wShape = graph.subgraph.tensors[wT].shape
        let byRows = wShape.count == 4 && wShape.allSatisfy { $0 > 0 }
            && GraphValidation.checkedCount(wShape) == graph.constants.sources[wT]?.count
        let rows = byRows ? try graph.constantRows(wT, "weights", site, rowCount: wShape[0]) : nil
        let values = byRows ? nil : try graph.constantFloats(wT, "weights", site)
        return (wT, wShape, rows, values)
    }

    /// Bias `[O]` (`count` zeros when the operator has none).
    func biasValues(_ graph: GraphBuilder, _ site: OperatorSite, count: Int) throws -> [Float] {
        site.op.inputs.count > 2 && site.op.inputs[2] >= 0
            ? try graph.constantFloats(site.op.inputs[2], "bias", site)
            : [Float](repeating: 0, count: count)
    }

    /// The dense kernel (GEMM, direct or stem paths) from the weights `weights(_:_:)` returned.
    func denseKernel(_ graph: GraphBuilder, _ site: OperatorSite, inputShape: [Int], weightRows: WeightRows?,
                     weightValues: [Float]?, weightsShape: [Int], bias: [Float], activation act: FusedActivation,
                     padding: Padding, preluAlpha: [Float]?) throws -> Conv2DOperator {
        // Per layer, the GEMM width that computes least padding (`preferredLanes`), from the output
        // pixels (a geometry the operator rejects gets the widest; its init then throws).
        var lanes = graph.options.gemmLanes
        if inputShape.count == 4, weightsShape.count == 4,
           let g = try? WindowGeometry(op: "CONV_2D", inputHeight: inputShape[1], inputWidth: inputShape[2],
                                       kernelHeight: weightsShape[1], kernelWidth: weightsShape[2],
                                       strideHeight: window.strideHeight, strideWidth: window.strideWidth,
                                       dilationHeight: window.dilationHeight, dilationWidth: window.dilationWidth,
                                       padding: padding) {
            if let pixels = GraphValidation.checkedCount([inputShape[0], g.outputHeight, g.outputWidth]) {
                lanes = Conv2DOperator.preferredLanes(lanes, inputChannels: inputShape[3], outputChannels: weightsShape[0],
                                                      outputPixels: pixels)
            }
        }
        return try graph.kernel(site) {
            if let weightRows {
                return try Conv2DOperator(inputShape: inputShape, weights: weightRows, weightsShape: weightsShape, bias: bias,
                                          strideHeight: window.strideHeight, strideWidth: window.strideWidth,
                                          dilationHeight: window.dilationHeight, dilationWidth: window.dilationWidth,
                                          padding: padding, activation: act, backend: graph.options.gemmBackend,
                                          preluAlpha: preluAlpha, store: graph.weightStore, lanes: lanes,
                                          panels: graph.options.halfPanels.panels)
            }
            return try Conv2DOperator(inputShape: inputShape, weights: weightValues ?? [], weightsShape: weightsShape, bias: bias,
                                      strideHeight: window.strideHeight, strideWidth: window.strideWidth,
                                      dilationHeight: window.dilationHeight, dilationWidth: window.dilationWidth,
                                      padding: padding, activation: act, backend: graph.options.gemmBackend,
                                      preluAlpha: preluAlpha, lanes: lanes,
                                      panels: graph.options.halfPanels.panels)
        }
    }

    /// The step of a pointwise conv that also runs the depthwise conv `pair.op` reading its output
    /// (`FusionPlan.depthwiseAfter`; `PointwiseDepthwiseOperator`): input this conv's, output the
    /// depthwise's final tensor; the intermediate `pair.intermediate` is checked but never stored.
    func preparePointwiseDepthwise(_ graph: inout GraphBuilder, _ site: OperatorSite,
                                   _ pair: (op: Int, intermediate: Int)) throws -> PreparedStep {
        let x = try graph.activation(try graph.fusedInput(site), "input", site)
        let y = try graph.activation(graph.fusedOutput(site), "output", site)
        let preluAlpha = try graph.fusion.prelu[site.index].map { try graph.constantFloats($0, "PRELU alpha", site) }
        let (sparse, conv, sparseVariant, wShape) = try pointwiseKernel(&graph, site, inputShape: try graph.shape(x),
                                                                        preluAlpha: preluAlpha)
        guard let intermediate = sparse?.outputShape ?? conv?.outputShape else {
            throw site.fail("no kernel for this conv")   // unreachable: one of the two was built
        }
        try graph.checkOutput(pair.intermediate, intermediate.dims, site)
        // The depthwise conv's unit builds its kernel (with its own folded PAD/RELU/PRELU) on the
        // conv's output shape; errors name the depthwise operator.
        let dwSite = graph.sites[pair.op]
        guard let dwUnit = graph.units[pair.op] as? DepthwiseConv2DUnit else {
            throw dwSite.fail("fused depthwise step is not a DEPTHWISE_CONV_2D")   // unreachable: planned from its facts
        }
        let (depthwise, dwFlops) = try dwUnit.makeOperator(&graph, dwSite, inputShape: intermediate.dims,
                                                           rowPathOnly: true)
        // The projection reading the depthwise output (`FusionPlan.projectionAfter`), built by its
        // own unit on that shape; errors name its operator.
        let projection = graph.fusion.projectionAfter[site.index]
        if let p = projection { try graph.checkOutput(p.intermediate, depthwise.outputShape.dims, dwSite) }
        let projected = try projection.map { try projectionKernel(&graph, $0, inputShape: depthwise.outputShape.dims) }
        let outputShape = projected?.kernel.outputShape ?? depthwise.outputShape
        try graph.checkOutput(y, outputShape.dims, projected.map { graph.sites[$0.op] } ?? dwSite)
        let fused = try graph.kernel(site) {
            if let sparse { return try PointwiseDepthwiseOperator(sparse: sparse, depthwise: depthwise, projection: projected?.kernel) }
            guard let conv else { throw site.fail("no kernel for this conv") }   // unreachable, as above
            return try PointwiseDepthwiseOperator(pointwise: conv, depthwise: depthwise, projection: projected?.kernel)
        }
        graph.requestScratch(fused.scratchCount(threads: graph.options.threads))
        let flops = 2.0 * Double(intermediate.elementCount) * Double(wShape.dropFirst().reduce(1, *)) + dwFlops
            + (projected?.flops ?? 0)
        // `profile`'s variant column: the sparse choice, binary16 weight panels, the fused ops.
        var variant = "+depthwise op \(pair.op)"
        if let sparseVariant { variant += ", " + sparseVariant }
        if conv?.panelPrecision == .float16WhenExact { variant += ", f16-panels" }
        if let projected { variant += ", +conv op \(projected.op)" + (projected.variant.map { " " + $0 } ?? "") }
        // The projection's fused ADD: its skip, which the output may replace in memory (not the
        // step's input: the bands read input rows after other rows' outputs are written).
        let skip = try projected?.residual.map { r in (try graph.activation(r.tensor, "residual", graph.sites[r.op]), r) }
        if let (s, r) = skip {
            try graph.checkOutput(s, Array(outputShape.dims.dropLast()) + [r.channels ?? outputShape.channels], graph.sites[r.op])
            if r.channels == nil, projected?.kernel.residualMayShareOutput == true {
                graph.offerInPlace(output: y, residual: s, input: x, site)
            }
        }
        return PreparedStep(flops: flops, bind: { offset in
            let xo = offset(x), yo = offset(y), so = skip.map { offset($0.0) }
            let skipLd = skip.map { $0.1.channels ?? outputShape.channels } ?? 0
            let skipChannels = skip?.1.channels ?? .max, skipActivation = skip?.1.activation ?? .none
            return { arena, scratch, pool in
                let residual = so.map { GemmResidual(data: arena + $0, ld: skipLd, activation: skipActivation, channels: skipChannels) }
                fused.run(input: arena + xo, output: arena + yo, scratch: scratch, pool: pool, residual: residual)
            }
        }, variant: variant)
    }

    /// The kernel this 1×1 conv's own step would choose on an input of `inputShape` (the sparse
    /// kernel, else the dense one), with a folded PRELU's `preluAlpha`; its `profile` label and
    /// the weights' shape. Done reading the weights afterwards. `unbiased`: without the bias and the
    /// activation (the conv of a `ResizedPointwiseOperator`, which applies them after its resize).
    func pointwiseKernel(_ graph: inout GraphBuilder, _ site: OperatorSite, inputShape: [Int], preluAlpha: [Float]?,
                         unbiased: Bool = false) throws
        -> (sparse: SparseConv1x1Operator?, dense: Conv2DOperator?, variant: String?, weightsShape: [Int]) {
        let (wT, wShape, weightRows, weightValues) = try weights(graph, site)
        let bias = unbiased ? [] : try biasValues(graph, site, count: wShape.first ?? 0)
        let act = unbiased ? .none : graph.fusedActivation(site, own: activation)
        let (sparse, variant) = try sparseChoice(graph, site, inputShape: inputShape, weights: (wT, wShape, weightRows, weightValues),
                                                 bias: bias, activation: act, hasPrelu: preluAlpha != nil)
        let dense: Conv2DOperator? = sparse != nil ? nil
            : try denseKernel(graph, site, inputShape: inputShape, weightRows: weightRows,
                              weightValues: weightValues, weightsShape: wShape, bias: bias,
                              activation: act, padding: window.padding, preluAlpha: preluAlpha)
        if weightRows != nil { graph.doneReading(wT) }
        return (sparse, dense, variant, wShape)
    }

    /// The kernel of the projection `p.op` (a 1×1 conv, `FusionPlan.projectionAfter`) on an input of
    /// `inputShape`, as that conv's own step would choose it (sparse or native GEMM), its FLOPs,
    /// `profile` label and fused ADD.
    func projectionKernel(_ graph: inout GraphBuilder, _ p: (op: Int, intermediate: Int), inputShape: [Int]) throws
        -> (op: Int, kernel: PointwiseProjection, flops: Double, variant: String?,
            residual: (op: Int, tensor: Int, activation: FusedActivation, channels: Int?)?) {
        let site = graph.sites[p.op]
        guard let unit = graph.units[p.op] as? Conv2DUnit else {
            throw site.fail("fused projection is not a CONV_2D")   // unreachable: planned from its facts
        }
        try site.arity(inputs: 2...3)
        let (sparse, dense, variant, wShape) = try unit.pointwiseKernel(&graph, site, inputShape: inputShape, preluAlpha: nil)
        let kernel: PointwiseProjection
        if let sparse {
            kernel = .sparse(sparse)
        } else if let dense {
            kernel = .dense(dense)
        } else {
            throw site.fail("no kernel for this conv")   // unreachable: one of the two was built
        }
        let flops = 2.0 * Double(kernel.outputShape.elementCount) * Double(wShape.dropFirst().reduce(1, *))
        let residual = graph.fusion.residual[p.op].map { (op: p.op, tensor: $0.tensor, activation: $0.activation, channels: $0.channels) }
        return (p.op, kernel, flops, variant, residual)
    }

    /// The sparse 1×1 kernel `prepare` offers an eligible conv first (`sparseKernel`; nil: the
    /// dense one) and its variant label. When it is chosen the dense weights are never packed (they
    /// would stay in the model's weight store). By default only weights stored sparse (DENSIFY'd)
    /// are looked at, so that dense models make no weight array at load; `.always` looks at every
    /// 1×1 conv. `weights` is what ``weights(_:_:)`` returned.
    func sparseChoice(_ graph: GraphBuilder, _ site: OperatorSite, inputShape: [Int],
                      weights: (tensor: Int, shape: [Int], rows: WeightRows?, values: [Float]?),
                      bias: [Float], activation act: FusedActivation, hasPrelu: Bool,
                      resize: ResizeBilinearOperator? = nil) throws -> (SparseConv1x1Operator?, String?) {
        let (wT, wShape) = (weights.tensor, weights.shape)
        let storedSparse = graph.constants.sources[wT].map { graph.subgraph.tensors[$0.tensor].sparsity != nil } ?? false
        let candidate = graph.options.sparseConvolutions != .off && graph.options.gemmBackend == .native && !hasPrelu
            && wShape.count == 4 && wShape[0] > 1 && wShape[1] == 1 && wShape[2] == 1 && window.strideHeight == 1
            && window.strideWidth == 1 && graph.fusion.paddedInput[site.index] == nil
            && (storedSparse || graph.options.sparseConvolutions == .always)
        guard candidate else { return (nil, nil) }
        // The sparse kernel reads the weights' entries: straight from the file's CSR when they are
        // stored sparse (no dense copy), else from a dense array made only for such a layer.
        let rows = storedSparse && weights.rows != nil ? try graph.constantSparseRows(wT, "weights", site, rowCount: wShape[0]) : nil
        return try sparseKernel(graph, site, inputShape: inputShape,
                                weights: rows ?? SparseWeightRows(n: wShape[0], k: wShape[3],
                                                                  dense: weights.values ?? weights.rows?.array() ?? []),
                                weightsShape: wShape, bias: bias, activation: act, resize: resize)
    }

    /// The sparse 1×1 kernel for this conv (nil: keep the dense one) and the step's variant label
    /// (`sparse Z%` / `dense Z%` for an eligible layer, Z its share of zero weights, `, f16 values`
    /// when the kernel keeps its values as binary16; nil otherwise).
    /// Eligible: `InterpreterOptions.sparseConvolutions` is not `.off`, the native GEMM, a pointwise
    /// conv (1×1, stride 1, unpadded) with more than one output channel and no fused PRELU, weights
    /// stored sparse (a DENSIFY'd tensor; any weights with `.always`), at least half of them zero. Both kernels then give the same bits (same k order; a zero weight
    /// adds +0), so the choice only affects speed: `.always` takes the sparse kernel, `.auto` the one
    /// `SparseCostModel` predicts faster from the shape and the nonzero count (no timing at load,
    /// so the choice is the same on every run and machine). With OpenBLAS the bits differ, so such
    /// layers stay dense.
    /// The caller checks eligibility from the options and shapes (`prepare`'s `sparseCandidate`);
    /// `inputShape` is the conv's NHWC input, `weights` the dense OHWI `[O, 1, 1, I]` values.
    func sparseKernel(_ graph: GraphBuilder, _ site: OperatorSite, inputShape: [Int], weights: SparseWeightRows,
                      weightsShape: [Int], bias: [Float], activation: FusedActivation,
                      resize: ResizeBilinearOperator? = nil) throws
        -> (SparseConv1x1Operator?, String?) {
        guard inputShape.count == 4, weightsShape.count == 4 else { return (nil, nil) }
        let total = weights.n * weights.k, zeros = total - weights.nonzeroCount
        guard 2 * zeros >= total else { return (nil, nil) }
        let percent = "\(Int((100 * Double(zeros) / Double(max(1, total))).rounded()))%"
        let pixels = inputShape[0] * inputShape[1] * inputShape[2]
        let useSparse = graph.options.sparseConvolutions == .always
            || SparseCostModel.prefersSparse(pixels: pixels, inputChannels: inputShape[3],
                                             outputChannels: weightsShape[0], nonzeros: weights.nonzeroCount)
        guard useSparse else { return (nil, "dense " + percent) }
        let sparse = try graph.kernel(site) {
            try SparseConv1x1Operator(inputShape: inputShape, weights: weights, weightsShape: weightsShape,
                                      bias: bias, activation: activation, store: graph.weightStore, resize: resize,
                                      halfValues: graph.options.halfPanels.sparseHalfValues)
        }
        return (sparse, "sparse " + percent + (sparse.valuesAreHalf ? ", f16 values" : ""))
    }
}

/// Load-time choice between the dense GEMM and `SparseConv1x1Operator` for one eligible 1×1 conv,
/// from its shape and nonzero count only (both kernels give the same bits, so the choice only
/// affects speed, and it never depends on timing or on the thread count).
///
/// Each kernel's time on one thread is predicted as a linear function of its work, per pixel:
/// the dense GEMM's `I·O` multiply-adds plus its `O` output stores; the sparse kernel's
/// `nonzeros` 8-pixel multiply-adds, plus the `I` transposed input and `O` transposed-back
/// outputs (with the epilogue) of every pixel. The coefficients (ns per pixel per unit) were
/// fitted (least squares on relative error) on the 38 + 46 eligible layers of pose_detection and
/// face_detection_full_range_sparse: `blazepose profile … --threads 1 --csv`, `--sparse` against
/// `--no-sparse`, per-layer minimum of 16 interleaved runs, Zen 3 (2 vCPU, AVX2+FMA, shared).
/// Per nonzero the sparse kernel costs ~1.8× a dense multiply-add (one vector load per
/// multiply-add instead of a register-blocked tile), so it wins from ~45% zeros on deep layers,
/// but loses on large maps with few output channels (the transposes dominate). On those two
/// models the model picks sparse for 38 of 38 and 44 of 46 layers; its 4 wrong calls (layers where
/// the two kernels are within ±15%) cost 0.03 ms in all. Predicting costs a few multiplications
/// per layer at load (the former load-time timing took ~0.28 s for the detector).
enum SparseCostModel {
    /// Dense GEMM: ns per pixel per multiply-add (`I·O`), per output (`O`).
    static let densePerMAC = 0.0221, densePerOutput = 0.283
    /// Sparse kernel: ns per pixel per nonzero, per input channel, per output channel.
    static let sparsePerNonzero = 0.0393, sparsePerInput = 0.099, sparsePerOutput = 0.308
    /// Predicted sparse time / predicted dense time below which the sparse kernel is taken.
    static let margin = 1.0

    static func denseTime(pixels: Int, inputChannels i: Int, outputChannels o: Int) -> Double {
        Double(pixels) * (densePerMAC * Double(i * o) + densePerOutput * Double(o))
    }

    static func sparseTime(pixels: Int, inputChannels i: Int, outputChannels o: Int, nonzeros: Int) -> Double {
        Double(pixels) * (sparsePerNonzero * Double(nonzeros) + sparsePerInput * Double(i) + sparsePerOutput * Double(o))
    }

    /// True when the sparse kernel is predicted faster on a map of `pixels` pixels (`N·H·W`).
    static func prefersSparse(pixels: Int, inputChannels i: Int, outputChannels o: Int, nonzeros: Int) -> Bool {
        return sparseTime(pixels: pixels, inputChannels: i, outputChannels: o, nonzeros: nonzeros)
            < margin * denseTime(pixels: pixels, inputChannels: i, outputChannels: o)
    }
}
