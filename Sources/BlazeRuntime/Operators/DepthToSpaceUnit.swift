import BlazeKernels
import TFLite

/// DEPTH_TO_SPACE: NHWC `[N, H, W, C·b²]` → `[N, H·b, W·b, C]` (`DepthToSpaceOperator`).
struct DepthToSpaceUnit: OperatorUnit {
    static let kind = OperatorKind.builtin(.depthToSpace)
    /// `DepthToSpaceOptions`: block_size 0.
    static let unionType: UInt8 = 94

    let blockSize: Int

    init(site: OperatorSite) throws {
        try site.requireOptions(Self.unionType)
        blockSize = try site.op.options.int(0, "block_size")
    }

    func parameters(inputShapes: [[Int]], outputShapes: [[Int]]) -> String { "block \(blockSize)" }

    func prepare(_ graph: inout GraphBuilder, _ site: OperatorSite) throws -> PreparedStep? {
        try site.arity(inputs: 1...1)
        let x = try graph.activation(site.op.inputs[0], "input", site), y = try graph.activation(site.op.outputs[0], "output", site)
        let xShape = try graph.shape(x)
        let d2s = try graph.kernel(site) { try DepthToSpaceOperator(inputShape: xShape, blockSize: blockSize) }
        try graph.checkOutput(y, d2s.outputShape.dims, site)
        return PreparedStep(flops: 0) { offset in
            let xo = offset(x), yo = offset(y)
            return { arena, _, pool in d2s.run(input: arena + xo, output: arena + yo, pool: pool) }
        }
    }
}
