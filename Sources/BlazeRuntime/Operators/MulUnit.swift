import BlazeKernels
import TFLite

/// MUL: two float tensors with numpy broadcasting (either may be a constant), fused activation
/// (`BinaryOperator`).
struct MulUnit: OperatorUnit {
    static let kind = OperatorKind.builtin(.mul)
    /// `MulOptions`: fused_activation_function 0.
    static let unionType: UInt8 = 21

    let activation: FusedActivation

    init(site: OperatorSite) throws {
        try site.requireOptions(Self.unionType)
        activation = try FusedActivation(field: 0, of: site)
    }

    var fusedActivation: FusedActivation? { activation }

    func prepare(_ graph: inout GraphBuilder, _ site: OperatorSite) throws -> PreparedStep? {
        try binaryStep(.mul, activation: activation, &graph, site)
    }
}
