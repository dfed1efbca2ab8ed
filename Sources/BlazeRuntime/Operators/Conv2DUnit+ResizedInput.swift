import BlazeKernels
import TFLite

extension Conv2DUnit {
    /// The step of a 1×1 conv that computes the RESIZE_BILINEAR producing its input
    /// (`FusionPlan.resizedInput`): the conv runs on the resize's input, without bias and
    /// activation, and the resize of its output takes the bias, the activation, the fused ADD and
    /// a folded PRELU (`ResizedPointwiseOperator`; equal in exact arithmetic, 4× fewer multiply-adds for
    /// a 2× upsample). The conv's kernel is chosen as its own step would choose it on that smaller
    /// map (sparse or native GEMM). The resize's output (this conv's input) is checked but never
    /// stored.
    func prepareResizedPointwise(_ graph: inout GraphBuilder, _ site: OperatorSite, resizeOp: Int) throws -> PreparedStep {
        let resize = try resizeKernel(&graph, site)   // [N, h, w, I] → [N, H, W, I]
        guard let resize else { throw site.fail("no resize for this conv") }   // unreachable: `resizedInput` is set
        let x = try graph.activation(try graph.fusedInput(site), "input", site)
        let y = try graph.activation(graph.fusedOutput(site), "output", site)
        let (sparse, dense, sparseVariant, wShape) = try pointwiseKernel(&graph, site, inputShape: resize.inputShape.dims,
                                                                         preluAlpha: nil, unbiased: true)
        let conv: PointwiseProjection
        if let sparse { conv = .sparse(sparse) } else if let dense { conv = .dense(dense) } else {
            throw site.fail("no kernel for this conv")   // unreachable: one of the two was built
        }
        let bias = try biasValues(graph, site, count: wShape.first ?? 0)
        let act = graph.fusedActivation(site, own: activation)
        // A folded PRELU's alpha: `[…, 1, O]`, one value per output channel (checked by the planner).
        let preluAlpha = try graph.fusion.prelu[site.index].map { try graph.constantFloats($0, "PRELU alpha", site) }
        let resizeSite = graph.sites[resizeOp]
        let upsample = try graph.kernel(resizeSite) {
            try ResizeBilinearOperator(inputShape: conv.outputShape.dims, outputHeight: resize.outputShape.height,
                                       outputWidth: resize.outputShape.width, alignCorners: resize.alignCorners,
                                       halfPixelCenters: resize.halfPixelCenters)
        }
        let fused = try graph.kernel(site) { try ResizedPointwiseOperator(conv: conv, resize: upsample, bias: bias, activation: act,
                                                                            preluAlpha: preluAlpha) }
        let outputShape = fused.outputShape
        try graph.checkOutput(y, outputShape.dims, site)
        // The multiply-adds done: the conv's on the small map.
        let flops = 2.0 * Double(conv.outputShape.elementCount) * Double(wShape.dropFirst().reduce(1, *))
        let variant = (sparseVariant.map { $0 + ", " } ?? "") + "+resize op \(resizeOp) after"
        graph.requestScratch(fused.scratchCount(threads: graph.options.threads))
        let skip = try fusedSkip(&graph, site, output: y, input: x, outputShape: outputShape,
                                 mayShareOutput: fused.residualMayShareOutput)
        return PreparedStep(flops: flops, bind: { offset in
            let xo = offset(x), yo = offset(y), so = skip.map { offset($0.tensor) }
            return { arena, scratch, pool in
                // Scratch is always planned (the small map at least).
                guard let scratch else { preconditionFailure("CONV_2D after RESIZE_BILINEAR: no scratch buffer") }
                let residual = so.flatMap { o in skip?.residual(arena + o) }
                fused.run(input: arena + xo, output: arena + yo, scratch: scratch, pool: pool, residual: residual)
            }
        }, variant: variant)
    }
}
