import BlazeKernels
import TFLite

/// DEQUANTIZE: float16 weights → float32, resolved once at load (`Model.resolveConstants`); no step.
/// A DEQUANTIZE of an activation is not supported.
struct DequantizeUnit: OperatorUnit {
    static let kind = OperatorKind.builtin(.dequantize)
    init(site: OperatorSite) throws {}
    func prepare(_ graph: inout GraphBuilder, _ site: OperatorSite) throws -> PreparedStep? {
        try foldedConstant(&graph, site)
    }
}

/// DENSIFY: sparse weights → dense float32, resolved once at load (`Model.resolveConstants`); no step.
struct DensifyUnit: OperatorUnit {
    static let kind = OperatorKind.builtin(.densify)
    init(site: OperatorSite) throws {}
    func prepare(_ graph: inout GraphBuilder, _ site: OperatorSite) throws -> PreparedStep? {
        try foldedConstant(&graph, site)
    }
}

/// Checks that the operator's output was resolved as a constant at load.
private func foldedConstant(_ graph: inout GraphBuilder, _ site: OperatorSite) throws -> PreparedStep? {
    guard site.op.outputs.count == 1, graph.isConstant(site.op.outputs[0]) else {
        throw site.unsupported("only constant operands are supported (its output is not a resolved constant)")
    }
    return nil
}
