import BlazeKernels
import TFLite

/// Decoding of the option fields several operators share, from the schema's raw values.
extension FusedActivation {
    /// `tflite::ActivationFunctionType`: NONE 0, RELU 1, RELU_N1_TO_1 2, RELU6 3, TANH 4, SIGN_BIT 5.
    static func tfliteName(_ raw: Int8) -> String {
        switch raw {
        case 0: return "NONE"
        case 1: return "RELU"
        case 2: return "RELU_N1_TO_1"
        case 3: return "RELU6"
        case 4: return "TANH"
        case 5: return "SIGN_BIT"
        default: return "unknown (\(raw))"
        }
    }

    /// Reads the `fused_activation_function` field `id`; TANH and SIGN_BIT are unsupported options.
    init(field id: Int, of site: OperatorSite) throws {
        let raw: Int8 = try site.op.options.scalar(id, "fused_activation_function", default: 0)
        switch raw {
        case 0: self = .none
        case 1: self = .relu
        case 2: self = .reluN1To1
        case 3: self = .relu6
        case 4, 5: throw site.unsupported("fused activation \(Self.tfliteName(raw))")
        default: throw site.fail("unknown fused activation value \(raw)")
        }
    }

    /// The schema's name of this activation.
    var tfliteName: String {
        switch self {
        case .none: return "NONE"
        case .relu: return "RELU"
        case .relu6: return "RELU6"
        case .reluN1To1: return "RELU_N1_TO_1"
        }
    }
}

extension Padding {
    /// Reads the `padding` field `id` (`tflite::Padding`: SAME 0, VALID 1).
    init(field id: Int, of site: OperatorSite) throws {
        let raw: Int8 = try site.op.options.scalar(id, "padding", default: 0)
        switch raw {
        case 0: self = .same
        case 1: self = .valid
        default: throw site.fail("unknown padding value \(raw)")
        }
    }

    /// `SAME`, `VALID`, or the explicit amounts.
    var tfliteName: String {
        switch self {
        case .same: return "SAME"
        case .valid: return "VALID"
        case let .explicit(top, bottom, left, right): return "explicit \(top),\(bottom),\(left),\(right)"
        }
    }
}

/// The spatial options of a windowed operator (conv, depthwise conv, pooling).
struct WindowOptions: Equatable {
    var padding: Padding
    var strideHeight: Int, strideWidth: Int
    var dilationHeight = 1, dilationWidth = 1

    /// `stride 2x2 pad SAME[ dilation 2x2]`.
    var text: String {
        var s = "stride \(strideHeight)x\(strideWidth) pad \(padding.tfliteName)"
        if dilationHeight != 1 || dilationWidth != 1 { s += " dilation \(dilationHeight)x\(dilationWidth)" }
        return s
    }
}

/// Shape helpers for `inspect` rows (Double arithmetic: hostile shapes must not trap).
enum ShapeMath {
    static func count(_ shape: [Int]) -> Double { shape.reduce(1.0) { $0 * Double($1) } }
}
