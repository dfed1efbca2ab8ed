import BlazeKernels
import TFLite

/// RELU: `max(0, x)` over any shape (`UnaryOperator`). Fusion: folds into its producer.
struct ReluUnit: OperatorUnit {
    static let kind = OperatorKind.builtin(.relu)
    init(site: OperatorSite) throws {}
    func fusionFacts(_ graph: GraphBuilder, _ site: OperatorSite) -> FusionFacts { FusionFacts(role: .relu) }
    func prepare(_ graph: inout GraphBuilder, _ site: OperatorSite) throws -> PreparedStep? {
        try unaryStep(.relu, &graph, site)
    }
}

/// LOGISTIC: `1 / (1 + exp(-x))` over any shape (`UnaryOperator`).
struct LogisticUnit: OperatorUnit {
    static let kind = OperatorKind.builtin(.logistic)
    init(site: OperatorSite) throws {}
    func prepare(_ graph: inout GraphBuilder, _ site: OperatorSite) throws -> PreparedStep? {
        try unaryStep(.logistic, &graph, site)
    }
}

/// HARD_SWISH: `x · relu6(x + 3) / 6` over any shape, in TFLite's float order (`UnaryOperator`).
struct HardSwishUnit: OperatorUnit {
    static let kind = OperatorKind.builtin(.hardSwish)
    init(site: OperatorSite) throws {}  // `HardSwishOptions` has no fields.
    func prepare(_ graph: inout GraphBuilder, _ site: OperatorSite) throws -> PreparedStep? {
        try unaryStep(.hardSwish, &graph, site)
    }
}

/// The step of a one-input, same-shape element-wise operator.
func unaryStep(_ kind: UnaryKind, _ graph: inout GraphBuilder, _ site: OperatorSite) throws -> PreparedStep {
    try site.arity(inputs: 1...1)
    let x = try graph.activation(site.op.inputs[0], "input", site), y = try graph.activation(site.op.outputs[0], "output", site)
    let xShape = try graph.shape(x)
    try graph.checkOutput(y, xShape, site)
    let unary = try graph.kernel(site) { try UnaryOperator(kind: kind, shape: xShape) }
    return PreparedStep(flops: 0) { offset in
        let xo = offset(x), yo = offset(y)
        return { arena, _, pool in unary.run(input: arena + xo, output: arena + yo, pool: pool) }
    }
}
