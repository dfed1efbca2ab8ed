import BlazeKernels
import TFLite

/// PAD: zero padding, `paddings` an INT32 constant `[rank, 2]` (before, after per dimension)
/// (`PadOperator`). Fusion: a spatial zero PAD folds into the following VALID window op; a PAD
/// that only appends zero channels to a conv's skip tensor folds into that conv's residual.
struct PadUnit: OperatorUnit {
    static let kind = OperatorKind.builtin(.pad)

    init(site: OperatorSite) throws {}  // `PadOptions` has no fields.

    func fusionFacts(_ graph: GraphBuilder, _ site: OperatorSite) -> FusionFacts { FusionFacts(role: .padding) }

    func prepare(_ graph: inout GraphBuilder, _ site: OperatorSite) throws -> PreparedStep? {
        try site.arity(inputs: 2...2)
        let x = try graph.activation(site.op.inputs[0], "input", site), y = try graph.activation(site.op.outputs[0], "output", site)
        let flat = try graph.constantInt32s(site.op.inputs[1], "paddings", site)
        let xShape = try graph.shape(x)
        guard flat.count == 2 * xShape.count else { throw site.fail("paddings has \(flat.count) values for a rank-\(xShape.count) input") }
        let paddings = stride(from: 0, to: flat.count, by: 2).map { [flat[$0], flat[$0 + 1]] }
        let pad = try graph.kernel(site) { try PadOperator(inputShape: xShape, paddings: paddings) }
        try graph.checkOutput(y, pad.outputShape, site)
        return PreparedStep(flops: 0) { offset in
            let xo = offset(x), yo = offset(y)
            return { arena, _, pool in pad.run(input: arena + xo, output: arena + yo, pool: pool) }
        }
    }
}
