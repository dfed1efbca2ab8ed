import BlazeKernels
import TFLite

/// MEAN: the mean over `axes` (an INT32 constant, negative counts from the end), `keep_dims`
/// keeping the reduced dimensions as 1 (`MeanOperator`, TFLite's reference summation order).
struct MeanUnit: OperatorUnit {
    static let kind = OperatorKind.builtin(.mean)
    /// `ReducerOptions`: keep_dims 0.
    static let unionType: UInt8 = 27

    let keepDims: Bool

    init(site: OperatorSite) throws {
        keepDims = site.op.options.unionType == Self.unionType ? try site.op.options.bool(0, "keep_dims") : false
    }

    func parameters(inputShapes: [[Int]], outputShapes: [[Int]]) -> String { "keep_dims \(keepDims)" }

    func prepare(_ graph: inout GraphBuilder, _ site: OperatorSite) throws -> PreparedStep? {
        try site.arity(inputs: 2...2)
        let x = try graph.activation(site.op.inputs[0], "input", site), y = try graph.activation(site.op.outputs[0], "output", site)
        let axes = try graph.constantInt32s(site.op.inputs[1], "axes", site)
        let xShape = try graph.shape(x)
        let keepDims = self.keepDims
        let mean = try graph.kernel(site) { try MeanOperator(inputShape: xShape, axes: axes, keepDims: keepDims) }
        try graph.checkOutput(y, mean.outputShape, site)
        return PreparedStep(flops: 0) { offset in
            let xo = offset(x), yo = offset(y)
            return { arena, _, pool in mean.run(input: arena + xo, output: arena + yo, pool: pool) }
        }
    }
}
