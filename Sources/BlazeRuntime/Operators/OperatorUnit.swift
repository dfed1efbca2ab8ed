import BlazeKernels
import TFLite

/// What the registry is keyed by: a builtin operator code, or a custom operator's name.
public enum OperatorKind: Hashable, Sendable, CustomStringConvertible {
    case builtin(BuiltinOperator)
    case custom(String)

    /// The kind of `op` in `model` (a CUSTOM code is keyed by its custom name).
    public init(of op: Operator, in model: Model) {
        let code = model.opcode(of: op)
        if code == .custom, let name = model.customCode(of: op) {
            self = .custom(name)
        } else {
            self = .builtin(code)
        }
    }

    /// `CONV_2D`, or `CUSTOM(Convolution2DTransposeBias)`.
    public var description: String {
        switch self {
        case let .builtin(code): return code.description
        case let .custom(name): return "CUSTOM(\(name))"
        }
    }
}

/// One operator of the graph being built: its index, its TFLite name and its file record.
struct OperatorSite {
    let index: Int
    let name: String
    let op: Operator

    /// An `invalidOperator` error naming this operator.
    func fail(_ detail: String) -> RuntimeError { .invalidOperator(op: index, name: name, detail: detail) }
    /// An `unsupportedOption` error naming this operator.
    func unsupported(_ detail: String) -> RuntimeError { .unsupportedOption(op: index, name: name, detail: detail) }

    /// Input `i`, or an error when the operator has fewer inputs.
    func input(_ i: Int, _ what: String) throws -> Int {
        guard i < op.inputs.count else { throw fail("has no \(what) (input \(i))") }
        return op.inputs[i]
    }

    /// Checks the operator's input and output counts.
    func arity(inputs: ClosedRange<Int>, outputs: Int = 1) throws {
        guard inputs.contains(op.inputs.count), op.outputs.count == outputs else {
            throw fail("expects \(inputs) inputs and \(outputs) output(s), has \(op.inputs.count) and \(op.outputs.count)")
        }
    }

    /// Requires the builtin options table of union type `unionType` (the schema's position in
    /// `tflite::BuiltinOptions`), as TFLite's op resolver requires `builtin_data`.
    func requireOptions(_ unionType: UInt8) throws {
        guard op.options.hasTable, op.options.unionType == unionType else {
            throw fail("builtin options are missing or of the wrong type (union type \(op.options.unionType), expected \(unionType))")
        }
    }
}

/// What a prepared operator contributes to the graph: its FLOPs and a factory that binds tensor
/// arena offsets (known only after memory planning) into the closure `invoke` runs.
struct PreparedStep {
    typealias Run = (_ arena: UnsafeMutablePointer<Float>, _ scratch: UnsafeMutablePointer<Float>?, _ pool: ThreadPool) -> Void
    /// 2·MAC of one run (0 for operators that are not convolutions or matrix products).
    var flops: Double
    /// Called once after planning with `offset(tensor)` (in floats) for every planned tensor.
    var bind: (_ offset: (Int) -> Int) -> Run
    /// The kernel chosen at load when it is not the usual one (see `Interpreter.Step.variant`).
    var variant: String? = nil
    /// For a step that can compute only some pixels of its NHWC output (a dense CONV_2D on the
    /// native GEMM), a factory like `bind` for the closure that does (see
    /// `InterpreterOptions.partialOutputs`); nil: the step always computes its whole output.
    var bindPixelRuns: PixelRunsFactory? = nil

    typealias PixelRunsFactory = (_ offset: (Int) -> Int) -> PixelRunsRun

    typealias PixelRunsRun = (_ arena: UnsafeMutablePointer<Float>, _ scratch: UnsafeMutablePointer<Float>?, _ pool: ThreadPool,
                              _ runs: UnsafeBufferPointer<PixelRun>) -> Void
}

/// The role an operator can play when another operator absorbs it (see `FusionPlan`).
enum FusionRole: Equatable {
    /// A standalone RELU: becomes its producer's fused activation.
    case relu
    /// An ADD of two same-shape tensors with this fused activation: becomes a conv epilogue.
    case residualAdd(FusedActivation)
    /// A PAD: may become explicit zero padding of its consumer when it pads only H and W, or the
    /// zero channels of a conv's residual when it only appends channels.
    case padding
    /// A PRELU with a constant per-channel alpha: becomes the last stage of its producer's epilogue.
    case prelu
    /// A RESIZE_BILINEAR: may be computed by its consumer while that reads its input (a sparse 1×1
    /// conv's input transposes).
    case bilinearResize
}

/// What an operator offers to the fusion planner. Every fusion is bit-identical to running the
/// operators one after the other (see `FusionPlan`).
struct FusionFacts {
    /// The operator can apply a RELU that follows it (its own fused activation is NONE).
    var absorbsRelu = false
    /// The operator can read its first input through explicit zero padding (a VALID window op).
    var acceptsExplicitPadding = false
    /// The operator can add a same-shape skip tensor in its epilogue, then an activation.
    var acceptsResidual = false
    /// Its residual may also be a zero channel PAD's input (fewer channels than the output; the
    /// padded channels add `+0`), absorbing the PAD.
    var acceptsChannelPaddedResidual = false
    /// The operator can apply a PRELU (constant alpha, one per output channel) that follows it
    /// (after its own activation and any fused residual).
    var absorbsPrelu = false
    /// The operator is a dense pointwise conv (1×1, stride 1, unpadded, native GEMM) that can run
    /// a following depthwise conv in row bands (`PointwiseDepthwiseOperator`).
    var feedsDepthwise = false
    /// The operator is a depthwise conv that can run inside its pointwise producer's step, from
    /// this intermediate map size on (bytes, float32: `FusionPlan.pointwiseDepthwiseMinBytes`, or
    /// the lower bound for stride-1 windows); nil: it cannot.
    var pointwiseRowsMinBytes: Int?
    /// The operator is a 1×1 conv that can compute a RESIZE_BILINEAR producing its input while
    /// reading it (`SparseConv1x1Operator.resize`).
    var readsResizedInput = false
    /// What the operator becomes when absorbed by a neighbour; nil = never absorbed.
    var role: FusionRole?
}

/// One TFLite operator type as one unit, in the manner of tract's ops: it decodes its own options,
/// validates its tensors and shapes (typed errors with the operator index), prepacks its weights at
/// load, calls its kernel, and declares the fusions it can take part in. Register it once in
/// `OperatorRegistry.units`; what the runtime supports and what `inspect` calls unsupported derive
/// from that list.
protocol OperatorUnit {
    /// The operator this unit implements.
    static var kind: OperatorKind { get }
    /// Decodes (and range-checks) the operator's options.
    init(site: OperatorSite) throws
    /// The options' fused activation, for operators whose options have one.
    var fusedActivation: FusedActivation? { get }
    /// `inspect`'s parameter text, e.g. `kernel 3x3 stride 2x2 pad SAME` (shapes: inputs then outputs).
    func parameters(inputShapes: [[Int]], outputShapes: [[Int]]) -> String
    /// 2·MAC for these shapes (Double: hostile shapes must not overflow); 0 for non-MAC operators.
    func flops(inputShapes: [[Int]], outputShapes: [[Int]]) -> Double
    /// Fusion facts for this operator in `graph`.
    func fusionFacts(_ graph: GraphBuilder, _ site: OperatorSite) -> FusionFacts
    /// Validates, prepacks and returns the step; nil when the operator needs none (a view, a folded constant).
    func prepare(_ graph: inout GraphBuilder, _ site: OperatorSite) throws -> PreparedStep?
}

extension OperatorUnit {
    var fusedActivation: FusedActivation? { nil }
    func parameters(inputShapes: [[Int]], outputShapes: [[Int]]) -> String { "" }
    func flops(inputShapes: [[Int]], outputShapes: [[Int]]) -> Double { 0 }
    func fusionFacts(_ graph: GraphBuilder, _ site: OperatorSite) -> FusionFacts { FusionFacts() }
}
