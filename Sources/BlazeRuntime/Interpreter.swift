import BlazeKernels
import Foundation
import TFLite

/// Settings for an ``Interpreter``.
public struct InterpreterOptions: Sendable {
    /// Worker threads for the kernels (default: all cores). Outputs are
    /// bit-identical for every value.
    public var threads: Int
    /// Give every activation tensor its own memory so every intermediate can be
    /// read after `invoke` (used by `compare`); costs arena memory.
    public var preserveIntermediates: Bool
    /// GEMM implementation for convolutions (default: the faster one for this build,
    /// see `GemmBackend.preferred`).
    public var gemmBackend: GemmBackend
    /// Vector width of the native GEMM micro-kernels (default: this build's, ``GemmLanes/build``:
    /// 16 lanes when the CPU target has AVX-512, else 8). Outputs are bit-identical for both;
    /// `.sixteen` on a target without AVX-512 runs correctly but is not faster (for tests).
    public var gemmLanes: GemmLanes
    /// Fuse operators at load (PAD into the next conv's padding, a residual ADD into the
    /// conv's GEMM epilogue, standalone RELU into its producer). Outputs are bit-identical
    /// either way when ``convolveBeforeResize`` is off (that reordering needs the fusion);
    /// fused-away tensors are not materialized.
    public var fuseOperators: Bool
    /// Whether a 1×1 stride-1 CONV_2D whose weights are at least half zeros (a DENSIFY'd sparse
    /// model) runs the sparse kernel (`SparseConv1x1Operator`); see ``SparseConvolutionPolicy``.
    /// Default `.auto`: per layer, the kernel a cost model predicts faster (no timing at load).
    public var sparseConvolutions: SparseConvolutionPolicy
    /// Whether convs keep their packed weights as binary16 (``HalfPanelPolicy``; default `.auto`:
    /// dense convs with outputs of 8×8 and smaller and sparse convs, in builds whose CPU target has F16C).
    /// Outputs are identical either way.
    public var halfPanels: HalfPanelPolicy
    /// Whether a conv with a fused residual ADD may write its output into the residual's memory
    /// when it is the residual's last reader (its kernel reads each residual element before
    /// writing the output there), when that makes the memory plan smaller: e.g. pose_landmark_full's
    /// 256×256×8 decoder (activations 8.42 → 7.46 MiB). Outputs are identical either way.
    public var inPlaceResidual: Bool
    /// Whether a 1×1 conv that reads a RESIZE_BILINEAR's output (fused with it, its only reader)
    /// runs on the resize's smaller input first, the resize then taking the conv's output, bias,
    /// activation, fused ADD and PRELU (`ResizedPointwiseOperator`): equal in exact arithmetic (the
    /// conv is linear per pixel, the resize's weights sum to 1), 4× fewer multiply-adds for a 2×
    /// upsample (the detector's two decoder convs, palm detection's two, the selfie segmenters'
    /// three). Not bit-identical to the graph's order: the outputs stay as close to LiteRT's
    /// builtin kernels as XNNPACK's are (the model tests' bar). `false`: the conv reads the
    /// resize's output as the graph does (computed in its step, bit-identical to the unfused
    /// graph). Default `true`.
    public var convolveBeforeResize: Bool
    /// Most bytes the interpreter may allocate for one model: float32 constants, prepacked weights'
    /// sources, the activation arena and scratch. Checked at load, before anything is allocated;
    /// a model that needs more fails with `RuntimeError.memoryBudget` or `.tensorSize`.
    public var memoryBudget: Int
    /// Activation memory shared with other interpreters that never run at the same time as this
    /// one (see ``ActivationArena`` for what sharing implies); nil (the default): its own.
    public var sharedArena: ActivationArena?

    /// Where packed weights are cached between loads (``WeightCache``), or nil (the default) for
    /// no cache. The CLI and the pose pipeline use ``WeightCache/user``. Outputs are identical
    /// either way; ``Interpreter/weightCacheOutcome`` says what a load did.
    public var weightCache: WeightCache?

    /// Graph outputs (positions in the model's output list, each an NHWC `[N, H, W, C]` tensor that a
    /// step writes directly) that may be computed in parts: ``Interpreter/invoke(computing:profiler:)``
    /// without one of them still runs every step its writer reads from, and the memory plan keeps
    /// what that writer reads intact to the end of the run, so that
    /// ``Interpreter/withOutput(_:computingRegions:_:)`` can compute just the pixels a caller
    /// reads: e.g. the pose landmark models' 64×64×39 heatmap, of which the pipeline's refinement
    /// reads 39 windows of 7×7 pixels. Costs the writer's inputs' memory for the rest of the run.
    /// Default: none.
    public var partialOutputs: [Int]

    /// The default `memoryBudget`: 4 GiB (the BlazePose models need ~40 MB).
    public static let defaultMemoryBudget = 4 << 30

    public init(threads: Int = ProcessInfo.processInfo.activeProcessorCount,
                preserveIntermediates: Bool = false,
                gemmBackend: GemmBackend = .preferred,
                gemmLanes: GemmLanes = .build,
                fuseOperators: Bool = true,
                memoryBudget: Int = InterpreterOptions.defaultMemoryBudget,
                sparseConvolutions: SparseConvolutionPolicy = .auto,
                sharedArena: ActivationArena? = nil,
                halfPanels: HalfPanelPolicy = .auto,
                inPlaceResidual: Bool = true,
                weightCache: WeightCache? = nil,
                convolveBeforeResize: Bool = true,
                partialOutputs: [Int] = []) {
        self.threads = max(1, threads)
        self.preserveIntermediates = preserveIntermediates
        self.gemmBackend = gemmBackend
        self.gemmLanes = gemmLanes
        self.fuseOperators = fuseOperators
        self.sparseConvolutions = sparseConvolutions
        self.memoryBudget = max(0, memoryBudget)
        self.sharedArena = sharedArena
        self.halfPanels = halfPanels
        self.inPlaceResidual = inPlaceResidual
        self.convolveBeforeResize = convolveBeforeResize
        self.weightCache = weightCache
        self.partialOutputs = partialOutputs
    }
}

/// Which convs keep their weights as binary16 that the kernel widens as it loads them (exact, so
/// outputs are identical; weights that are not all exactly binary16 stay float32): dense convs'
/// GEMM panels, and the sparse kernel's nonzero values (`SparseConv1x1Operator.valuesAreHalf`).
/// Half panels halve the memory a load faults in and packs for those layers; half sparse values
/// take 4 bytes per nonzero instead of 6 (the detector: packed weights 5.75 → 4.32 MiB).
public enum HalfPanelPolicy: Sendable, Equatable {
    /// float32 everywhere (`--no-half-panels`).
    case off
    /// Dense convs whose output has at most `Conv2DOperator.halfPanelPixels` (64) pixels, and every
    /// sparse conv, when the build's CPU target widens halves in one instruction (F16C) and is not
    /// Zen 1 (`PanelPrecision.buildWidensHalves`); the default.
    case auto
    /// Every eligible conv, in any build (`--half-panels`; for checking and measuring).
    case always
}

extension HalfPanelPolicy {
    /// `Conv2DOperator`'s `panels` argument: nil lets the operator's own rule decide.
    var panels: PanelPrecision? {
        switch self {
        case .off: return .float32
        case .auto: return nil
        case .always: return .float16WhenExact
        }
    }

    /// `SparseConv1x1Operator`'s `halfValues`: its nonzero values as binary16 where every one is
    /// exact, with `.always`, and with `.auto` where the build widens halves in one instruction.
    var sparseHalfValues: Bool {
        switch self {
        case .off: return false
        case .auto: return PanelPrecision.buildWidensHalves
        case .always: return true
        }
    }
}

/// When the interpreter runs a 1×1, stride-1 CONV_2D with at least half of its weights zero
/// (and more than one output channel) on the sparse kernel instead of the dense GEMM. Only with
/// the native GEMM, whose bits the sparse kernel reproduces exactly; with OpenBLAS (other bits)
/// such layers always stay dense, so no result ever depends on timing.
public enum SparseConvolutionPolicy: Sendable, Equatable {
    /// Always the dense GEMM (`--no-sparse`).
    case off
    /// For weights stored sparse (a DENSIFY'd tensor), the kernel predicted faster from the layer's
    /// shape and nonzero count (the default; a fixed cost model, no timing, so the choice is the
    /// same on every run). Outputs are identical whichever is taken.
    case auto
    /// Every eligible layer on the sparse kernel (`--sparse`; for checking and measuring).
    case always
}

/// Errors raised while preparing or feeding a model. Each names the operator
/// (index and TFLite name) or tensor it concerns.
public enum RuntimeError: Error, CustomStringConvertible, Equatable {
    case noSubgraph
    case unsupportedOperator(op: Int, name: String)
    case unsupportedOption(op: Int, name: String, detail: String)
    case unsupportedTensorType(tensor: Int, name: String, type: String)
    case invalidOperator(op: Int, name: String, detail: String)
    case dynamicShape(tensor: Int, name: String, shape: [Int])
    case kernel(op: Int, name: String, message: String)
    case inputIndex(Int, count: Int)
    case inputSize(input: Int, name: String, expected: Int, got: Int)
    /// An output position that the model does not have.
    case outputIndex(Int, count: Int)
    /// The graph has no operators.
    case emptyGraph
    /// The graph's own structure is inconsistent (e.g. a graph input index out of range).
    case invalidGraph(detail: String)
    /// A graph output that no operator writes (and that is no input or constant).
    case outputNotProduced(tensor: Int, name: String)
    /// A tensor whose size overflows or exceeds the memory budget on its own.
    case tensorSize(tensor: Int, name: String, shape: [Int], detail: String)
    /// The model needs more memory than `InterpreterOptions.memoryBudget`: `needed` bytes, or
    /// `Int.max` when the amount overflows.
    case memoryBudget(needed: Int, budget: Int, detail: String)
    /// A partial output (``InterpreterOptions/partialOutputs``) that cannot be one, or a region of it
    /// that is not inside it.
    case partialOutput(output: Int, detail: String)

    public var description: String {
        switch self {
        case .noSubgraph: return "model has no subgraph"
        case let .unsupportedOperator(op, name):
            return "operator \(op) (\(name)) is not supported by this runtime"
        case let .unsupportedOption(op, name, detail):
            return "operator \(op) (\(name)): unsupported option: \(detail)"
        case let .unsupportedTensorType(t, name, type):
            return "tensor \(t) '\(name)' has type \(type); only FLOAT32 activations are supported"
        case let .invalidOperator(op, name, detail):
            return "operator \(op) (\(name)): \(detail)"
        case let .dynamicShape(t, name, shape):
            return "tensor \(t) '\(name)' has a non-static shape \(shape)"
        case let .kernel(op, name, message):
            return "operator \(op) (\(name)): \(message)"
        case let .inputIndex(i, count):
            return "input index \(i) is out of range (the model has \(count) inputs)"
        case let .inputSize(i, name, expected, got):
            return "input \(i) '\(name)' needs \(expected) floats, got \(got)"
        case let .outputIndex(i, count):
            return "output index \(i) is out of range (the model has \(count) outputs)"
        case .emptyGraph:
            return "the model's graph has no operators"
        case let .invalidGraph(detail):
            return "invalid graph: \(detail)"
        case let .outputNotProduced(t, name):
            return "graph output tensor \(t) '\(name)' is written by no operator"
        case let .tensorSize(t, name, shape, detail):
            return "tensor \(t) '\(name)' of shape \(shape) \(detail)"
        case let .memoryBudget(needed, budget, detail):
            let amount = needed == Int.max ? "more than \(Int.max)" : "\(needed)"
            return "the model needs \(amount) bytes for \(detail), over the memory budget of \(budget) bytes (InterpreterOptions.memoryBudget)"
        case let .partialOutput(output, detail):
            return "output \(output): \(detail)"
        }
    }
}

/// Describes one graph input or output.
public struct TensorInfo: Sendable, Equatable {
    /// Tensor index in the subgraph.
    public var index: Int
    public var name: String
    /// Static shape, e.g. `[1, 224, 224, 3]` (NHWC) for images.
    public var shape: [Int]
    public var elementCount: Int { shape.reduce(1, *) }
}

/// Runs subgraph 0 of a TFLite model on float32 NHWC tensors.
///
/// At load it resolves constants (DEQUANTIZE of float16 weights, DENSIFY of sparse
/// ones), validates every operator, prepacks weights into the layout each kernel
/// wants, and plans all activations into one arena. `invoke` then touches only
/// the arena and the packed weights: no allocation per inference.
public final class Interpreter {
    public let model: Model
    public let options: InterpreterOptions
    public let inputs: [TensorInfo]
    public let outputs: [TensorInfo]
    /// The memory plan (offsets in floats into the arena).
    public let plan: MemoryPlan
    /// Executed steps in file order; folded constant ops (DEQUANTIZE, DENSIFY) and
    /// aliasing RESHAPEs have none.
    public let steps: [Step]

    /// One executable operator.
    public struct Step {
        /// Operator index in the subgraph.
        public let op: Int
        /// TFLite operator name, e.g. "CONV_2D".
        public let name: String
        /// Multiply-adds ×2 for convolutions, 0 otherwise.
        public let flops: Double
        /// The kernel chosen at load when it is not the operator's usual one, e.g. "sparse 74%"
        /// (a CONV_2D on the sparse 1×1 kernel, 74% of its weights zero); nil otherwise.
        public let variant: String?
        /// Tensors the step may write, sorted: its operator's outputs and, when it absorbed operators
        /// after it, the last one's output (see ``Interpreter/invoke(computing:profiler:)``).
        let writes: [Int]
        /// Activation tensors the step reads, sorted.
        let reads: [Int]
        let run: (_ arena: UnsafeMutablePointer<Float>, _ scratch: UnsafeMutablePointer<Float>?, _ pool: ThreadPool) -> Void
        /// Computes only the given pixels of the step's NHWC output (bit-identical to `run` there);
        /// nil when the step can only compute its whole output.
        let runPixels: PreparedStep.PixelRunsRun?
    }

    private let subgraph: Subgraph
    let pool: ThreadPool
    // Activations then scratch, in memory this interpreter owns or shares (`options.sharedArena`).
    private let memory: ActivationArena
    // Activations: `plan.arenaCount` floats, 64-byte aligned. Layout per tensor is its NHWC shape.
    // Read at each use: a shared arena may have moved when another interpreter reserved more.
    var arena: UnsafeMutablePointer<Float> { memory.base }
    // im2col scratch for non-pointwise convolutions: `scratchCount` floats after the activations.
    var scratch: UnsafeMutablePointer<Float>? { scratchCount > 0 ? memory.base + scratchOffset : nil }
    private let scratchCount: Int
    private let scratchOffset: Int
    // Float constants that operators read by pointer (e.g. an ADD operand), kept alive here.
    private let constantStore: [Int: UnsafeMutableBufferPointer<Float>]

    /// Loads and prepares the model at `url`, as ``init(owning:options:)`` does with the model it
    /// reads.
    public convenience init(contentsOf url: URL, options: InterpreterOptions = .init()) throws {
        try self.init(owning: try Model(contentsOf: url), options: options)
    }

    /// Prepares `model`, which this interpreter takes over: the caller keeps no pointer from
    /// `model.bufferData` and uses no copy of `model` while this runs. The weights' file bytes are
    /// released as each constant is packed (`Model.releaseBufferData()`), so the file and the packed
    /// weights do not peak together; `model.bufferData` reads them back from the file if asked.
    public convenience init(owning model: Model, options: InterpreterOptions = .init()) throws {
        try self.init(model: model, options: options, releasingBuffers: true)
        model.releaseBufferData()
    }

    /// Prepares `model` (which stays untouched: its buffer data stays in memory).
    public convenience init(model: Model, options: InterpreterOptions = .init()) throws {
        try self.init(model: model, options: options, releasingBuffers: false)
    }

    /// With `releasingBuffers` (the caller holds no other reference to `model`), each constant's
    /// file pages are released as soon as it is prepacked, so the file and the packed weights do
    /// not peak together.
    init(model: Model, options: InterpreterOptions, releasingBuffers: Bool) throws {
        OpenBLAS.useSingleThread()
        guard let subgraph = model.subgraphs.first else { throw RuntimeError.noSubgraph }
        self.model = model
        self.options = options
        self.subgraph = subgraph
        self.pool = ThreadPool(threads: options.threads)

        let constantBytes = try GraphValidation.check(model, subgraph: subgraph, budget: options.memoryBudget)
        if let i = options.partialOutputs.first(where: { !subgraph.outputs.indices.contains($0) }) {
            throw RuntimeError.outputIndex(i, count: subgraph.outputs.count)
        }
        let constants = try model.constantTable(subgraph: 0)
        // Packed weights go to one store (huge-page chunks), packed over this interpreter's threads,
        // or replayed from a cache file that holds them (keyed before any page is released).
        let packers = pool
        let cacheKey = options.weightCache.flatMap { WeightCacheKey(cache: $0, model: model, options: options, pool: packers) }
        let cached = cacheKey.flatMap { WeightCacheFile.open($0, pool: packers, budget: options.memoryBudget) }
        var weightStore = cached.map { WeightStore(pool: packers, replaying: $0.pieces, owner: $0.mapping) } ?? WeightStore(pool: packers)
        var builder = GraphBuilder(model: model, subgraph: subgraph, constants: constants, options: options,
                                   releasesWidenedBuffers: releasingBuffers, weightStore: weightStore)
        try builder.build()
        if cached != nil && !weightStore.replayedEverything {
            // The file did not match the packers' requests (not expected for a file this key
            // names): pack afresh, and rewrite it below.
            weightStore = WeightStore(pool: packers)
            builder = GraphBuilder(model: model, subgraph: subgraph, constants: constants, options: options,
                                   releasesWidenedBuffers: releasingBuffers, weightStore: weightStore)
            try builder.build()
        }
        weightStore.finish()
        if let cacheKey {
            if weightStore.replayedEverything {
                weightCacheOutcome = .hit(path: cacheKey.path)
            } else if let reason = WeightCacheFile.store(weightStore.journal, key: cacheKey) {
                weightCacheOutcome = .notStored(reason: reason)
            } else {
                weightCacheOutcome = .stored(path: cacheKey.path)
            }
        } else {
            weightCacheOutcome = options.weightCache == nil ? .off : .notStored(reason: "the model's bytes or the engine binary cannot be identified")
        }
        packedWeightBytes = weightStore.bytesInUse
        // Arena and scratch are allocated below; their sum with the constants must fit the budget.
        let (arenaBytes0, o1) = builder.plan.arenaCount.multipliedReportingOverflow(by: MemoryLayout<Float>.stride)
        let (scratchBytes0, o2) = builder.scratchCount.multipliedReportingOverflow(by: MemoryLayout<Float>.stride)
        let (planned, o3) = arenaBytes0.addingReportingOverflow(scratchBytes0)
        let (total, o4) = planned.addingReportingOverflow(constantBytes)
        guard !(o1 || o2 || o3 || o4), total <= options.memoryBudget else {
            throw RuntimeError.memoryBudget(needed: (o1 || o2 || o3 || o4) ? Int.max : total, budget: options.memoryBudget,
                                            detail: "activations (\(arenaBytes0) bytes), scratch (\(scratchBytes0) bytes) and constants (\(constantBytes) bytes)")
        }
        self.memoryBytes = total
        self.steps = builder.steps
        self.plan = builder.plan
        self.constantStore = builder.constantStore
        self.scratchCount = builder.scratchCount
        self.inputs = subgraph.inputs.map { TensorInfo(index: $0, name: subgraph.tensors[$0].name, shape: subgraph.tensors[$0].shape) }
        self.outputs = subgraph.outputs.map { TensorInfo(index: $0, name: subgraph.tensors[$0].name, shape: subgraph.tensors[$0].shape) }
        self.partialSteps = try Self.partialOutputSteps(options.partialOutputs, outputs: outputs, steps: builder.steps)

        // Scratch starts on a 64-byte boundary after the activations; the memory is faulted in now.
        scratchOffset = MemoryPlanner.align(max(1, plan.arenaCount))
        memory = options.sharedArena ?? ActivationArena()
        memory.reserve(scratchOffset + scratchCount)
    }

    deinit {
        for buffer in constantStore.values { buffer.deallocate() }
    }

    /// What this load did with ``InterpreterOptions/weightCache``: `.off` without one, `.hit`
    /// when the packed weights were mapped from its file, else whether they were stored there.
    public let weightCacheOutcome: WeightCacheOutcome

    /// Bytes this interpreter allocated for the model: the activation arena, scratch and the
    /// float32 constants (always ≤ `options.memoryBudget`).
    public let memoryBytes: Int

    /// Bytes of prepacked weights this interpreter holds: the convolutions' GEMM panels (float32
    /// or binary16), depthwise taps and sparse 1×1 entries (offsets and values), each piece rounded
    /// up to 64 bytes; not biases or other small float constants. With the model file's size and
    /// ``activationBytes``, most of the fresh memory a load faults in (the file's copy, the packed
    /// weights, the activations).
    public let packedWeightBytes: Int

    /// Bytes of activation memory one ``invoke(profiler:)`` uses: the planned activations (tensors
    /// whose lifetimes do not overlap share memory; a conv's output may take a dying residual's)
    /// and the kernels' scratch. Interpreters on one shared arena need the largest of theirs.
    public var activationBytes: Int { (scratchOffset + scratchCount) * MemoryLayout<Float>.stride }

    /// Worker threads in use.
    public var threadCount: Int { pool.threadCount }

    /// Runs `body(item)` for every `item` in `0..<count` on this interpreter's threads (the caller is
    /// one of them), for pre- and post-processing around ``invoke(profiler:)``: e.g. the pipeline's
    /// image warps, split into row bands. Which thread runs an item varies, so `body` must make an
    /// item's result depend on the item alone. Not from inside `body`, nor while `invoke` runs on
    /// another thread (one pool serves both).
    public func parallelFor(_ count: Int, _ body: (_ item: Int) -> Void) {
        pool.parallelFor(count) { item, _ in body(item) }
    }

    /// Total convolution work of one inference, in FLOPs (2·MAC).
    public var flops: Double { steps.reduce(0) { $0 + $1.flops } }

    /// Copies `values` (row-major in the input's shape, e.g. NHWC) into input `i`.
    public func setInput(_ i: Int, _ values: UnsafeBufferPointer<Float>) throws {
        guard inputs.indices.contains(i) else { throw RuntimeError.inputIndex(i, count: inputs.count) }
        let info = inputs[i]
        guard values.count == info.elementCount else {
            throw RuntimeError.inputSize(input: i, name: info.name, expected: info.elementCount, got: values.count)
        }
        guard let base = values.baseAddress, let offset = plan.offsets[info.index] else { return }
        (arena + offset).update(from: base, count: values.count)
    }

    /// Copies `values` into input `i`.
    public func setInput(_ i: Int, _ values: [Float]) throws {
        try values.withUnsafeBufferPointer { try setInput(i, $0) }
    }

    /// Calls `body` with input `i`'s storage (row-major in the input's shape, e.g. NHWC;
    /// `elementCount` floats), for a caller that computes the input in place instead of copying it
    /// in with ``setInput(_:_:)-([Float])``. Valid only inside `body`; `body` must write every
    /// element (the memory holds whatever the last inference left there).
    /// - Throws: ``RuntimeError/inputIndex(_:count:)`` for an `i` the model does not have, or what
    ///   `body` throws.
    public func withInput<R>(_ i: Int, _ body: (UnsafeMutableBufferPointer<Float>) throws -> R) throws -> R {
        guard inputs.indices.contains(i) else { throw RuntimeError.inputIndex(i, count: inputs.count) }
        let info = inputs[i]
        guard let offset = plan.offsets[info.index] else { return try body(UnsafeMutableBufferPointer(start: nil, count: 0)) }
        return try body(UnsafeMutableBufferPointer(start: arena + offset, count: info.elementCount))
    }

    /// Runs every operator once, in file order. With a `profiler`, each operator is timed.
    public func invoke(profiler: Profiler? = nil) {
        run(steps.indices, profiler: profiler)
        computedOutputs = nil
        hasInvoked = true
    }

    /// Runs only the steps that the graph outputs `indices` (positions in ``outputs``) depend on, in
    /// file order: e.g. a pose landmark model without the segmentation head that only its mask
    /// output reads (26 of lite's 488 operators, 46 of full's 332, among them full's 256×256
    /// layers). A partial output (``InterpreterOptions/partialOutputs``) left out still gets what
    /// its step reads, for ``withOutput(_:computingRegions:_:)``; its step does not run. The
    /// outputs computed are bit-identical to a full ``invoke(profiler:)``; until the
    /// next `invoke`, the other outputs have no values (``output(_:)`` returns `[]`,
    /// ``withOutput(_:_:)`` passes an empty buffer, ``isComputed(output:)`` is false).
    /// - Throws: ``RuntimeError/outputIndex(_:count:)`` for an index the model does not have.
    public func invoke(computing indices: [Int], profiler: Profiler? = nil) throws {
        let wanted = Set(indices)
        run(try selectedSteps(for: wanted), profiler: profiler)
        computedOutputs = wanted
        hasInvoked = true
    }

    /// How many of ``steps`` ``invoke(computing:profiler:)`` runs for outputs `indices`.
    /// - Throws: ``RuntimeError/outputIndex(_:count:)`` for an index the model does not have.
    public func stepCount(computing indices: [Int]) throws -> Int {
        try selectedSteps(for: Set(indices)).count
    }

    /// Positions in ``steps`` that ``invoke(computing:profiler:)`` runs for outputs `wanted`,
    /// cached for the last set asked for.
    /// - Throws: ``RuntimeError/outputIndex(_:count:)`` for an index the model does not have.
    func selectedSteps(for wanted: Set<Int>) throws -> [Int] {
        if let cached = stepSelection, cached.outputs == wanted { return cached.steps }
        if let i = wanted.sorted().first(where: { !outputs.indices.contains($0) }) {
            throw RuntimeError.outputIndex(i, count: outputs.count)
        }
        let selected = stepsComputing(wanted)
        stepSelection = (wanted, selected)
        return selected
    }

    /// Whether output `i` holds values of the last inference: always after ``invoke(profiler:)``;
    /// after ``invoke(computing:profiler:)`` only for the outputs it was asked for.
    public func isComputed(output i: Int) -> Bool {
        outputs.indices.contains(i) && (computedOutputs?.contains(i) ?? true)
    }

    /// The outputs the last `invoke` computed, when it was ``invoke(computing:profiler:)``; nil: all.
    private var computedOutputs: Set<Int>?
    /// Whether an `invoke` has run (the inputs of the partial outputs' steps then hold its values).
    var hasInvoked = false
    /// Output position → the position in ``steps`` of the step that writes it, for
    /// ``InterpreterOptions/partialOutputs``.
    let partialSteps: [Int: Int]
    /// `[N·H·W]` flags of the pixels a ``withOutput(_:computingRegions:_:)`` call computes (reused).
    var pixelMask: [Bool] = []
    /// The runs of those pixels, each in one output row and at most `Conv2DOperator.pixelRunLimit` long (reused).
    var pixelRuns: [PixelRun] = []
    /// The last ``invoke(computing:profiler:)`` selection: its outputs and the steps they need.
    private var stepSelection: (outputs: Set<Int>, steps: [Int])?

    /// Positions in ``steps`` of the steps that graph outputs `wanted` depend on: the tensors they
    /// read, found backwards through the model's operators (aliasing RESHAPEs and folded constant
    /// operators included), and every step that writes one of them.
    private func stepsComputing(_ wanted: Set<Int>) -> [Int] {
        var producer: [Int: Int] = [:]   // tensor → the operator that writes it
        for (index, op) in subgraph.operators.enumerated() {
            for t in op.outputs where t >= 0 { producer[t] = index }
        }
        var needed = Set(wanted.map { outputs[$0].index })
        // A partial output left out: what its step reads, for `withOutput(_:computingRegions:_:)`.
        for (position, step) in partialSteps where !wanted.contains(position) { needed.formUnion(steps[step].reads) }
        var stack = Array(needed)
        var visited = Set<Int>()
        while let t = stack.popLast() {
            guard let index = producer[t], visited.insert(index).inserted else { continue }
            for input in subgraph.operators[index].inputs where input >= 0 && needed.insert(input).inserted {
                stack.append(input)
            }
        }
        return steps.indices.filter { steps[$0].writes.contains(where: needed.contains) }
    }

    private func run(_ selected: some Sequence<Int>, profiler: Profiler?) {
        if let profiler {
            for i in selected {
                let step = steps[i]
                let start = profiler.now()
                step.run(arena, scratch, pool)
                profiler.record(op: step.op, start: start, end: profiler.now())
            }
            profiler.finishRun()
        } else {
            for i in selected { steps[i].run(arena, scratch, pool) }
        }
    }

    /// Output `i` as a flat array in its shape's row-major order; `[]` when the last
    /// ``invoke(computing:profiler:)`` did not compute it or the model has no output `i`.
    public func output(_ i: Int) -> [Float] {
        guard isComputed(output: i) else { return [] }
        return tensorValues(outputs[i].index) ?? []
    }

    /// Calls `body` with output `i`'s storage, without copying (an empty buffer when the last
    /// ``invoke(computing:profiler:)`` did not compute it or the model has no output `i`). Valid
    /// only inside `body`.
    public func withOutput<R>(_ i: Int, _ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        guard isComputed(output: i) else { return try body(UnsafeBufferPointer(start: nil, count: 0)) }
        let info = outputs[i]
        let offset = plan.offsets[info.index] ?? 0
        return try body(UnsafeBufferPointer(start: arena + offset, count: info.elementCount))
    }

    /// The current values of tensor `index` (an activation in the arena or a
    /// float constant), or `nil` when the tensor holds no float data. Intermediates
    /// are only guaranteed intact after `invoke` with `preserveIntermediates`.
    public func tensorValues(_ index: Int) -> [Float]? {
        guard subgraph.tensors.indices.contains(index) else { return nil }
        let count = subgraph.tensors[index].shape.reduce(1, *)
        if let offset = plan.offsets[index] {
            return Array(UnsafeBufferPointer(start: arena + offset, count: count))
        }
        if let c = constantStore[index] { return Array(c) }
        return nil
    }

    /// Index of the operator that writes tensor `index`, if any.
    public func producer(of index: Int) -> Int? {
        subgraph.operators.firstIndex { $0.outputs.contains(index) }
    }
}
