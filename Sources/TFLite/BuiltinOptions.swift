/// Convolution / pooling padding mode (`tflite::Padding`).
public enum Padding: Int8, Sendable, CustomStringConvertible {
    case same = 0, valid = 1
    public var description: String { self == .same ? "SAME" : "VALID" }
}

/// Activation fused into an operator (`tflite::ActivationFunctionType`).
public enum FusedActivation: Int8, Sendable, CustomStringConvertible {
    case none = 0, relu, reluN1To1, relu6, tanh, signBit
    public var description: String {
        switch self {
        case .none: return "NONE"
        case .relu: return "RELU"
        case .reluN1To1: return "RELU_N1_TO_1"
        case .relu6: return "RELU6"
        case .tanh: return "TANH"
        case .signBit: return "SIGN_BIT"
        }
    }
}

/// `Conv2DOptions`. Filter is OHWI `[outC, kH, kW, inC]`.
public struct Conv2DOptions: Sendable, Equatable {
    public var padding: Padding
    public var strideW: Int
    public var strideH: Int
    public var activation: FusedActivation
    public var dilationW: Int
    public var dilationH: Int
    public init(padding: Padding, strideW: Int, strideH: Int, activation: FusedActivation, dilationW: Int, dilationH: Int) { self.padding = padding; self.strideW = strideW; self.strideH = strideH; self.activation = activation; self.dilationW = dilationW; self.dilationH = dilationH }
}

/// `DepthwiseConv2DOptions`. Filter is `[1, kH, kW, inC * depthMultiplier]`.
public struct DepthwiseConv2DOptions: Sendable, Equatable {
    public var padding: Padding
    public var strideW: Int
    public var strideH: Int
    public var depthMultiplier: Int
    public var activation: FusedActivation
    public var dilationW: Int
    public var dilationH: Int
    public init(padding: Padding, strideW: Int, strideH: Int, depthMultiplier: Int, activation: FusedActivation, dilationW: Int, dilationH: Int) { self.padding = padding; self.strideW = strideW; self.strideH = strideH; self.depthMultiplier = depthMultiplier; self.activation = activation; self.dilationW = dilationW; self.dilationH = dilationH }
}

/// `Pool2DOptions` (MAX_POOL_2D, AVERAGE_POOL_2D, L2_POOL_2D).
public struct Pool2DOptions: Sendable, Equatable {
    public var padding: Padding
    public var strideW: Int
    public var strideH: Int
    public var filterWidth: Int
    public var filterHeight: Int
    public var activation: FusedActivation
    public init(padding: Padding, strideW: Int, strideH: Int, filterWidth: Int, filterHeight: Int, activation: FusedActivation) { self.padding = padding; self.strideW = strideW; self.strideH = strideH; self.filterWidth = filterWidth; self.filterHeight = filterHeight; self.activation = activation }
}

/// `AddOptions`.
public struct AddOptions: Sendable, Equatable {
    public var activation: FusedActivation
    public init(activation: FusedActivation) { self.activation = activation }
}

/// `ConcatenationOptions`; `axis` may be negative (counted from the end), as in TFLite.
public struct ConcatenationOptions: Sendable, Equatable {
    public var axis: Int
    public var activation: FusedActivation
    public init(axis: Int, activation: FusedActivation) { self.axis = axis; self.activation = activation }
}

/// `ResizeBilinearOptions`.
public struct ResizeBilinearOptions: Sendable, Equatable {
    public var alignCorners: Bool
    public var halfPixelCenters: Bool
    public init(alignCorners: Bool, halfPixelCenters: Bool) { self.alignCorners = alignCorners; self.halfPixelCenters = halfPixelCenters }
}

/// `ReshapeOptions`; `newShape` nil when absent (the shape then comes from the second input).
public struct ReshapeOptions: Sendable, Equatable {
    public var newShape: [Int]?
    public init(newShape: [Int]?) { self.newShape = newShape }
}

/// `DepthToSpaceOptions`.
public struct DepthToSpaceOptions: Sendable, Equatable {
    public var blockSize: Int
    public init(blockSize: Int) { self.blockSize = blockSize }
}

/// The decoded `builtin_options` union of an operator.
///
/// Cases follow the union's *options table type*, not the operator: MAX_POOL_2D carries `.pool2D`.
/// Operators whose options table is empty in the schema (PAD, DEQUANTIZE, DENSIFY) get their own
/// case when the file stores the (empty) table, and `.none` when it stores nothing — RELU and
/// LOGISTIC have no options table at all and always get `.none`.
public enum BuiltinOptions: Sendable, Equatable {
    case none
    case conv2D(Conv2DOptions)
    case depthwiseConv2D(DepthwiseConv2DOptions)
    case pool2D(Pool2DOptions)
    case add(AddOptions)
    case concatenation(ConcatenationOptions)
    case resizeBilinear(ResizeBilinearOptions)
    case reshape(ReshapeOptions)
    case depthToSpace(DepthToSpaceOptions)
    case pad
    case dequantize
    case densify
    /// An options table of a type this reader does not decode (union type code as in the schema).
    case other(unionType: UInt8)

    /// Union type codes of `tflite::BuiltinOptions` (position in the union, 1-based).
    enum UnionType {
        static let conv2D: UInt8 = 1
        static let depthwiseConv2D: UInt8 = 2
        static let pool2D: UInt8 = 5
        static let concatenation: UInt8 = 10
        static let add: UInt8 = 11
        static let resizeBilinear: UInt8 = 15
        static let reshape: UInt8 = 17
        static let pad: UInt8 = 22
        static let dequantize: UInt8 = 38
        static let depthToSpace: UInt8 = 94
        static let densify: UInt8 = 99
    }

    /// The fused activation, for options that have one.
    public var activation: FusedActivation? {
        switch self {
        case let .conv2D(o): return o.activation
        case let .depthwiseConv2D(o): return o.activation
        case let .pool2D(o): return o.activation
        case let .add(o): return o.activation
        case let .concatenation(o): return o.activation
        default: return nil
        }
    }
}

extension FlatBufferReader {
    func padding(_ table: Table, _ id: Int) throws -> Padding {
        let raw: Int8 = try scalar(table, id, "padding", default: 0)
        guard let value = Padding(rawValue: raw) else { throw invalid("unknown padding value \(raw)") }
        return value
    }

    func activation(_ table: Table, _ id: Int) throws -> FusedActivation {
        let raw: Int8 = try scalar(table, id, "fused_activation_function", default: 0)
        guard let value = FusedActivation(rawValue: raw) else { throw invalid("unknown fused activation value \(raw)") }
        return value
    }

    func int(_ table: Table, _ id: Int, _ what: @autoclosure () -> String, default value: Int32 = 0) throws -> Int {
        Int(try scalar(table, id, what(), default: value))
    }

    /// Decodes the `builtin_options` union of an operator table (fields 3 = type, 4 = table).
    func builtinOptions(_ op: Table) throws -> BuiltinOptions {
        let type: UInt8 = try scalar(op, 3, "builtin_options_type", default: 0)
        guard type != 0 else { return .none }
        guard let t = try tableField(op, 4, "builtin_options") else {
            // A type without a table: TFLite treats the options as absent.
            return .none
        }
        typealias U = BuiltinOptions.UnionType
        switch type {
        case U.conv2D:
            // Conv2DOptions: padding 0, stride_w 1, stride_h 2, fused_activation_function 3, dilation_w 4, dilation_h 5.
            return .conv2D(Conv2DOptions(
                padding: try padding(t, 0), strideW: try int(t, 1, "stride_w"), strideH: try int(t, 2, "stride_h"),
                activation: try activation(t, 3),
                dilationW: try int(t, 4, "dilation_w_factor", default: 1), dilationH: try int(t, 5, "dilation_h_factor", default: 1)))
        case U.depthwiseConv2D:
            // padding 0, stride_w 1, stride_h 2, depth_multiplier 3, fused_activation_function 4, dilation_w 5, dilation_h 6.
            return .depthwiseConv2D(DepthwiseConv2DOptions(
                padding: try padding(t, 0), strideW: try int(t, 1, "stride_w"), strideH: try int(t, 2, "stride_h"),
                depthMultiplier: try int(t, 3, "depth_multiplier"), activation: try activation(t, 4),
                dilationW: try int(t, 5, "dilation_w_factor", default: 1), dilationH: try int(t, 6, "dilation_h_factor", default: 1)))
        case U.pool2D:
            // padding 0, stride_w 1, stride_h 2, filter_width 3, filter_height 4, fused_activation_function 5.
            return .pool2D(Pool2DOptions(
                padding: try padding(t, 0), strideW: try int(t, 1, "stride_w"), strideH: try int(t, 2, "stride_h"),
                filterWidth: try int(t, 3, "filter_width"), filterHeight: try int(t, 4, "filter_height"),
                activation: try activation(t, 5)))
        case U.add:
            return .add(AddOptions(activation: try activation(t, 0)))
        case U.concatenation:
            return .concatenation(ConcatenationOptions(axis: try int(t, 0, "axis"), activation: try activation(t, 1)))
        case U.resizeBilinear:
            // new_height 0 and new_width 1 are deprecated; align_corners 2, half_pixel_centers 3.
            return .resizeBilinear(ResizeBilinearOptions(
                alignCorners: try bool(t, 2, "align_corners"), halfPixelCenters: try bool(t, 3, "half_pixel_centers")))
        case U.reshape:
            return .reshape(ReshapeOptions(newShape: try intVectorField(t, 0, "new_shape")))
        case U.depthToSpace:
            return .depthToSpace(DepthToSpaceOptions(blockSize: try int(t, 0, "block_size")))
        case U.pad: return .pad
        case U.dequantize: return .dequantize
        case U.densify: return .densify
        default: return .other(unionType: type)
        }
    }
}
