import BlazeKernels
import TFLite

/// FULLY_CONNECTED: input of any shape read as rows of I values, weights `[O, I]` (a constant),
/// optional bias `[O]`, fused activation; output `[rows, O]`, or with `keep_num_dims` the input's
/// shape with its last dimension replaced by O (`FullyConnectedOperator`).
struct FullyConnectedUnit: OperatorUnit {
    static let kind = OperatorKind.builtin(.fullyConnected)
    /// `FullyConnectedOptions`: fused_activation_function 0, weights_format 1, keep_num_dims 2,
    /// asymmetric_quantize_inputs 3.
    static let unionType: UInt8 = 8

    let activation: FusedActivation
    let keepNumDims: Bool

    init(site: OperatorSite) throws {
        try site.requireOptions(Self.unionType)
        activation = try FusedActivation(field: 0, of: site)
        let format: Int8 = try site.op.options.scalar(1, "weights_format", default: 0)
        guard format == 0 else { throw site.unsupported("weights_format \(format) (only DEFAULT is supported)") }
        keepNumDims = try site.op.options.bool(2, "keep_num_dims")
    }

    var fusedActivation: FusedActivation? { activation }

    func parameters(inputShapes: [[Int]], outputShapes: [[Int]]) -> String { keepNumDims ? "keep_num_dims" : "" }

    func flops(inputShapes: [[Int]], outputShapes: [[Int]]) -> Double {
        let weights = inputShapes.count > 1 ? inputShapes[1] : []
        guard weights.count == 2 else { return 0 }
        return 2 * ShapeMath.count(outputShapes.first ?? []) * Double(weights[1])
    }

    func prepare(_ graph: inout GraphBuilder, _ site: OperatorSite) throws -> PreparedStep? {
        try site.arity(inputs: 2...3)
        let x = try graph.activation(site.op.inputs[0], "input", site), y = try graph.activation(site.op.outputs[0], "output", site)
        let wT = site.op.inputs[1]
        let weights = try graph.constantFloats(wT, "weights", site)
        let wShape = graph.subgraph.tensors[wT].shape
        let bias = site.op.inputs.count > 2 && site.op.inputs[2] >= 0
            ? try graph.constantFloats(site.op.inputs[2], "bias", site) : []
        let xShape = try graph.shape(x)
        let activation = self.activation
        // Rows (`input elements / depth`) below a GEMM tile run the 8-lane few-row kernels
        // (`GemmLanes.preferred`; same bits).
        let depth = wShape.count == 2 ? wShape[1] : 0, columns = wShape.first ?? 0
        let rows = depth > 0 ? (GraphValidation.checkedCount(xShape) ?? 0) / depth : 0
        let lanes = graph.options.gemmLanes.preferred(rows: rows, columns: columns)
        let fc = try graph.kernel(site) {
            try FullyConnectedOperator(inputShape: xShape, weights: weights, weightsShape: wShape, bias: bias, activation: activation,
                                       lanes: lanes)
        }
        let expected = keepNumDims ? Array(xShape.dropLast()) + [fc.outputDepth] : fc.outputShape
        try graph.checkOutput(y, expected, site)
        let flops = 2.0 * Double(fc.rows) * Double(fc.outputDepth) * Double(fc.inputDepth)
        return PreparedStep(flops: flops) { offset in
            let xo = offset(x), yo = offset(y)
            return { arena, _, pool in fc.run(input: arena + xo, output: arena + yo, pool: pool) }
        }
    }
}
