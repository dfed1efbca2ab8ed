/// The fused activations of TFLite's builtin float ops (`ActivationFunctionType`).
///
/// Applied as TFLite's `ActivationFunctionWithMinMax`: `min(max(x, lower), upper)`.
public enum FusedActivation: Sendable, Equatable, CaseIterable {
    case none, relu, relu6, reluN1To1

    /// Lower clamp bound (`-infinity` when there is none).
    public var lowerBound: Float {
        switch self {
        case .none: return -.infinity
        case .relu, .relu6: return 0
        case .reluN1To1: return -1
        }
    }

    /// Upper clamp bound (`+infinity` when there is none).
    public var upperBound: Float {
        switch self {
        case .none, .relu: return .infinity
        case .relu6: return 6
        case .reluN1To1: return 1
        }
    }

    /// Scalar application in TFLite's order: max with the lower bound first, then min with the upper.
    @inlinable
    public func apply(_ x: Float) -> Float {
        Swift.min(Swift.max(x, lowerBound), upperBound)
    }
}
