import BlazeKernels
import TFLite

/// CONCATENATION: 1–64 float tensors (activations or constants) joined along `axis` (negative
/// counts from the end) (`ConcatenationOperator`). A fused activation other than NONE is unsupported.
struct ConcatenationUnit: OperatorUnit {
    static let kind = OperatorKind.builtin(.concatenation)
    /// `ConcatenationOptions`: axis 0, fused_activation_function 1.
    static let unionType: UInt8 = 10

    let axis: Int

    init(site: OperatorSite) throws {
        try site.requireOptions(Self.unionType)
        axis = try site.op.options.int(0, "axis")
        let activation = try FusedActivation(field: 1, of: site)
        guard activation == .none else { throw site.unsupported("fused activation \(activation.tfliteName)") }
    }

    var fusedActivation: FusedActivation? { FusedActivation.none }

    func parameters(inputShapes: [[Int]], outputShapes: [[Int]]) -> String { "axis \(axis)" }

    func prepare(_ graph: inout GraphBuilder, _ site: OperatorSite) throws -> PreparedStep? {
        try site.arity(inputs: 1...64)
        let y = try graph.activation(site.op.outputs[0], "output", site)
        // Each input: its tensor, and its stored values when it is a constant.
        var sources: [(tensor: Int, constant: UnsafePointer<Float>?)] = []
        for t in site.op.inputs {
            guard graph.isValidTensor(t) else { throw site.fail("input tensor index \(t) out of range") }
            sources.append(graph.isConstant(t) ? (t, try graph.storedConstant(t, site)) : (try graph.activation(t, "input", site), nil))
        }
        let shapes = try site.op.inputs.map { try graph.shape($0) }
        let axis = self.axis
        let concat = try graph.kernel(site) { try ConcatenationOperator(inputShapes: shapes, axis: axis) }
        try graph.checkOutput(y, concat.outputShape, site)
        return PreparedStep(flops: 0) { offset in
            let offsets = sources.map { offset($0.tensor) }, yo = offset(y)
            return { arena, _, pool in
                var inputs: [UnsafePointer<Float>] = []
                inputs.reserveCapacity(sources.count)
                for (i, s) in sources.enumerated() { inputs.append(s.constant ?? UnsafePointer(arena + offsets[i])) }
                concat.run(inputs: inputs, output: arena + yo, pool: pool)
            }
        }
    }
}
