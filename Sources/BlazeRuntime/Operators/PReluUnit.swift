import BlazeKernels
import TFLite

/// PRELU: `x ≥ 0 ? x : alpha·x`, `alpha` (usually a constant `[1, 1, C]`) broadcast to the input's
/// shape (`BinaryOperator`). No options. Fusion: with a constant per-channel alpha, becomes the
/// last epilogue stage of the conv or depthwise conv that produces its input.
struct PReluUnit: OperatorUnit {
    static let kind = OperatorKind.builtin(.prelu)

    init(site: OperatorSite) throws {}

    func fusionFacts(_ graph: GraphBuilder, _ site: OperatorSite) -> FusionFacts { FusionFacts(role: .prelu) }

    func prepare(_ graph: inout GraphBuilder, _ site: OperatorSite) throws -> PreparedStep? {
        try binaryStep(.prelu, activation: .none, &graph, site)
    }
}
