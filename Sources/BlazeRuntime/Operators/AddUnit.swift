import BlazeKernels
import TFLite

/// ADD: two float tensors with numpy broadcasting (either may be a constant), fused activation
/// (`BinaryOperator`). Fusions: absorbed as a conv's residual epilogue; absorbs a following RELU.
struct AddUnit: OperatorUnit {
    static let kind = OperatorKind.builtin(.add)
    /// `AddOptions`: fused_activation_function 0.
    static let unionType: UInt8 = 11

    let activation: FusedActivation

    init(site: OperatorSite) throws {
        try site.requireOptions(Self.unionType)
        activation = try FusedActivation(field: 0, of: site)
    }

    var fusedActivation: FusedActivation? { activation }

    func fusionFacts(_ graph: GraphBuilder, _ site: OperatorSite) -> FusionFacts {
        FusionFacts(absorbsRelu: activation == .none, role: .residualAdd(activation))
    }

    func prepare(_ graph: inout GraphBuilder, _ site: OperatorSite) throws -> PreparedStep? {
        try binaryStep(.add, activation: graph.fusedActivation(site, own: activation), &graph, site)
    }
}

/// The step of a two-input broadcasting element-wise operator (`BinaryOperator`): ADD, MUL, PRELU.
/// Either operand may be a constant; the output shape is the numpy broadcast of the two.
func binaryStep(_ kind: BinaryKind, activation: FusedActivation, _ graph: inout GraphBuilder, _ site: OperatorSite) throws -> PreparedStep {
    try site.arity(inputs: 2...2)
    let y = try graph.activation(graph.fusedOutput(site), "output", site)
    let aT = site.op.inputs[0], bT = site.op.inputs[1]
    guard graph.isValidTensor(aT), graph.isValidTensor(bT) else { throw site.fail("operand tensor index out of range") }
    let aShape = try graph.shape(aT), bShape = try graph.shape(bT)
    let binary = try graph.kernel(site) { try BinaryOperator(kind: kind, aShape: aShape, bShape: bShape, activation: activation) }
    // The kernel works on rank-4 views; the declared output has the operands' broadcast rank.
    let rank = max(aShape.count, bShape.count)
    try graph.checkOutput(y, Array(binary.outputShape.suffix(rank)), site)
    let aConst = graph.isConstant(aT) ? try graph.storedConstant(aT, site) : nil
    let bConst = graph.isConstant(bT) ? try graph.storedConstant(bT, site) : nil
    if aConst == nil { _ = try graph.activation(aT, "first operand", site) }
    if bConst == nil { _ = try graph.activation(bT, "second operand", site) }
    return PreparedStep(flops: 0) { offset in
        let ao = offset(aT), bo = offset(bT), yo = offset(y)
        return { arena, _, pool in
            binary.run(a: aConst ?? UnsafePointer(arena + ao), b: bConst ?? UnsafePointer(arena + bo), output: arena + yo, pool: pool)
        }
    }
}
