import BlazeKernels
import TFLite

/// RESIZE_BILINEAR: NHWC input, `size` an INT32 constant `[2]` (height, width) (`ResizeBilinearOperator`).
/// Fusions: a following same-shape ADD (a decoder's upsample + skip), added to each finished row
/// with the ADD's activation (and a RELU after it), as the conv epilogue does.
struct ResizeBilinearUnit: OperatorUnit {
    static let kind = OperatorKind.builtin(.resizeBilinear)
    /// `ResizeBilinearOptions`: new_height 0 / new_width 1 (deprecated), align_corners 2, half_pixel_centers 3.
    static let unionType: UInt8 = 15

    let alignCorners: Bool, halfPixelCenters: Bool

    init(site: OperatorSite) throws {
        try site.requireOptions(Self.unionType)
        alignCorners = try site.op.options.bool(2, "align_corners")
        halfPixelCenters = try site.op.options.bool(3, "half_pixel_centers")
    }

    func parameters(inputShapes: [[Int]], outputShapes: [[Int]]) -> String {
        "align_corners \(alignCorners) half_pixel \(halfPixelCenters)"
    }

    func fusionFacts(_ graph: GraphBuilder, _ site: OperatorSite) -> FusionFacts {
        FusionFacts(acceptsResidual: true, role: .bilinearResize)
    }

    /// The kernel for this operator and its input tensor (checked; also for a conv that computes
    /// this resize while reading its input). Errors name this operator.
    func makeOperator(_ graph: inout GraphBuilder, _ site: OperatorSite) throws -> (ResizeBilinearOperator, input: Int) {
        try site.arity(inputs: 2...2)
        let x = try graph.activation(site.op.inputs[0], "input", site)
        let size = try graph.constantInt32s(site.op.inputs[1], "size", site)
        guard size.count == 2 else { throw site.fail("size must hold 2 values, has \(size.count)") }
        let xShape = try graph.shape(x)
        let resize = try graph.kernel(site) {
            try ResizeBilinearOperator(inputShape: xShape, outputHeight: size[0], outputWidth: size[1],
                                       alignCorners: alignCorners, halfPixelCenters: halfPixelCenters)
        }
        return (resize, x)
    }

    func prepare(_ graph: inout GraphBuilder, _ site: OperatorSite) throws -> PreparedStep? {
        let (resize, x) = try makeOperator(&graph, site)
        let y = try graph.activation(graph.fusedOutput(site), "output", site)
        try graph.checkOutput(y, resize.outputShape.dims, site)
        if let skip = graph.fusion.residual[site.index] {
            // Fused ADD: the skip operand has the output's shape (checked by the planner and here).
            let s = try graph.activation(skip.tensor, "residual", site)
            try graph.checkOutput(s, resize.outputShape.dims, site)
            let activation = skip.activation, ld = resize.outputShape.channels
            return PreparedStep(flops: 0) { offset in
                let xo = offset(x), yo = offset(y), so = offset(s)
                return { arena, _, pool in
                    resize.run(input: arena + xo, output: arena + yo, pool: pool,
                               residual: GemmResidual(data: arena + so, ld: ld, activation: activation))
                }
            }
        }
        return PreparedStep(flops: 0) { offset in
            let xo = offset(x), yo = offset(y)
            return { arena, _, pool in resize.run(input: arena + xo, output: arena + yo, pool: pool) }
        }
    }
}
