import BlazeKernels
import Foundation
import TFLite

/// Turns a subgraph into executable steps and a memory plan. Every check on the file's operators
/// happens here, once, at load, through each operator's `OperatorUnit`; the steps never validate.
///
/// Order: decode every operator's unit (unsupported operators and options fail here, naming the
/// operator), plan fusions from the units' facts, prepare each remaining operator (validation,
/// prepacking), then plan activation memory by lifetime and bind arena offsets into the steps.
struct GraphBuilder {
    let model: Model
    let subgraph: Subgraph
    /// The constant float tensors, checked; each is widened to float32 only when a unit asks for
    /// it (`constantFloats`), so one layer's float32 copy lives only until its kernel has prepacked it,
    /// or read by rows straight into the packed panels (`constantRows`: conv weights, no copy).
    let constants: ConstantTable
    let options: InterpreterOptions

    private(set) var steps: [Interpreter.Step] = []
    private(set) var plan = MemoryPlan(arenaCount: 0, offsets: [], unsharedCount: 0)
    private(set) var constantStore: [Int: UnsafeMutableBufferPointer<Float>] = [:]
    /// Floats of scratch the largest step needs (im2col, padded planes), shared by all steps.
    private(set) var scratchCount = 0

    /// Union-find root for tensors that share storage (RESHAPE output → its input).
    private var alias: [Int: Int] = [:]
    /// Outputs that may take a dying residual's memory (`offerInPlace`), in step order.
    private var inPlaceOffers: [(output: Int, residual: Int, input: Int, op: Int)] = []
    /// Fusions applied while building (see `FusionPlan`).
    private(set) var fusion = FusionPlan()
    /// The decoded unit of every operator, by operator index.
    private(set) var units: [any OperatorUnit] = []
    /// The site (index, name, record) of every operator.
    private(set) var sites: [OperatorSite] = []
    /// Source tensors (`ConstantTable.Source.tensor`) whose values some unit has read.
    private let widened = WidenedSources()

    /// Whether the file pages of a constant's buffer are released (`Model.releaseBufferData(_:)`)
    /// as soon as it has been widened: only when this interpreter is the model's only user.
    let releasesWidenedBuffers: Bool

    /// The memory the packed weights of this model go to (and the pool that packs them).
    let weightStore: WeightStore

    init(model: Model, subgraph: Subgraph, constants: ConstantTable, options: InterpreterOptions,
         releasesWidenedBuffers: Bool = false, weightStore: WeightStore = WeightStore()) {
        self.releasesWidenedBuffers = releasesWidenedBuffers
        self.weightStore = weightStore
        self.model = model
        self.subgraph = subgraph
        self.constants = constants
        self.options = options
    }

    mutating func build() throws {
        // Pass 1: every operator's unit decodes its options.
        for (index, op) in subgraph.operators.enumerated() {
            let kind = OperatorKind(of: op, in: model)
            let site = OperatorSite(index: index, name: kind.description, op: op)
            guard let unitType = OperatorRegistry.unit(for: kind) else {
                throw RuntimeError.unsupportedOperator(op: index, name: site.name)
            }
            sites.append(site)
            units.append(try unitType.init(site: site))
        }
        fusion = options.fuseOperators ? planFusions() : FusionPlan()

        // Pass 2: validate, note aliases and prepare kernels. Steps capture tensor indices;
        // offsets are bound after planning.
        var pending: [(site: OperatorSite, step: PreparedStep)] = []
        for (unit, site) in zip(units, sites) where !fusion.absorbed.contains(site.index) {
            if let step = try unit.prepare(&self, site) { pending.append((site, step)) }
        }
        // Constants no unit read are still widened once (and dropped), so that a bad sparse index in
        // any constant fails the load as it did when every constant was resolved up front.
        for t in constants.sources.keys.sorted() {
            guard let source = constants.sources[t], !widened.tensors.contains(source.tensor) else { continue }
            _ = try model.constantValues(t, in: constants)
            widened.tensors.insert(source.tensor)
        }

        // Pass 3: lifetimes of activation storage roots, then the plan.
        let opCount = subgraph.operators.count
        var first: [Int: Int] = [:], last: [Int: Int] = [:]
        func touch(_ t: Int, _ at: Int) {
            let r = root(t)
            first[r] = min(first[r] ?? at, at)
            last[r] = max(last[r] ?? at, at)
        }
        // Graph inputs stay intact for the whole run (as TFLite's planner keeps them), so
        // `invoke` can be called again without setting the input again.
        for t in subgraph.inputs { touch(t, -1); touch(t, opCount) }
        for (index, op) in subgraph.operators.enumerated() {
            for t in fusion.tensors(of: index, op) where t >= 0 && isActivation(t) { touch(t, index) }
        }
        for t in subgraph.outputs where isActivation(t) { touch(t, opCount) }
        // A partial output's step may run after `invoke` (`InterpreterOptions.partialOutputs`): the
        // tensors it reads stay intact to the end of the run.
        for position in options.partialOutputs where subgraph.outputs.indices.contains(position) {
            let t = subgraph.outputs[position]
            for p in pending where writes(p.site).contains(t) {
                for r in reads(p.site) { touch(r, opCount) }
            }
        }
        func planRoots(_ first: [Int: Int], _ last: [Int: Int]) -> MemoryPlan {
            var requests: [BufferRequest] = []
            for (r, f) in first.sorted(by: { $0.key < $1.key }) {
                requests.append(BufferRequest(tensor: r, count: max(1, elementCount(r)), firstUse: f, lastUse: last[r] ?? f))
            }
            return MemoryPlanner.plan(requests, tensorCount: subgraph.tensors.count, shareMemory: !options.preserveIntermediates)
        }
        var rootPlan = planRoots(first, last)
        // In place: an output offered a residual's memory takes it when the residual (with its
        // views) is last read by that step. The output's own lifetime starts there, so the two
        // lifetimes meet at that step and the root's becomes their union. Kept only when the plan
        // comes out smaller: greedy placement does not promise it (on the wheel's 15 models the
        // merged plan was smaller for 11 and the same size for 4, e.g. the detector's 15 merges).
        if options.inPlaceResidual && !options.preserveIntermediates && !inPlaceOffers.isEmpty {
            let graphEnds = Set(subgraph.inputs.map(root) + subgraph.outputs.map(root))
            var mergedFirst = first, mergedLast = last, taken: [Int] = []
            for offer in inPlaceOffers {
                let r = root(offer.residual), y = offer.output
                // `r` starts before this step (it is read here), so only its end moves.
                guard root(y) == y, r != y, r != root(offer.input), !graphEnds.contains(r), !graphEnds.contains(y),
                      isActivation(r), mergedLast[r] == offer.op, mergedFirst[y] == offer.op, elementCount(r) == elementCount(y),
                      let yLast = mergedLast[y] else { continue }
                alias[y] = r
                taken.append(y)
                mergedLast[r] = yLast
                mergedFirst[y] = nil
                mergedLast[y] = nil
            }
            if !taken.isEmpty {
                let merged = planRoots(mergedFirst, mergedLast)
                if merged.arenaCount < rootPlan.arenaCount { rootPlan = merged } else { for y in taken { alias[y] = nil } }
            }
        }
        var offsets = rootPlan.offsets
        for t in alias.keys { offsets[t] = rootPlan.offsets[root(t)] }
        plan = MemoryPlan(arenaCount: rootPlan.arenaCount, offsets: offsets, unsharedCount: rootPlan.unsharedCount)

        let finalOffsets = offsets
        steps = pending.map { p in
            Interpreter.Step(op: p.site.index, name: p.site.name, flops: p.step.flops, variant: p.step.variant,
                             writes: writes(p.site), reads: reads(p.site),
                             run: p.step.bind { finalOffsets[$0] ?? 0 },
                             runPixels: p.step.bindPixelRuns.map { $0 { finalOffsets[$0] ?? 0 } })
        }
    }

    /// Tensors the step of operator `site` may write, sorted: its outputs and, when it absorbed
    /// operators after it, the last one's output.
    private func writes(_ site: OperatorSite) -> [Int] {
        Array(Set(site.op.outputs.filter { $0 >= 0 } + [fusedOutput(site)])).sorted()
    }

    /// Activation tensors the step of operator `site` reads (fusions applied), sorted.
    private func reads(_ site: OperatorSite) -> [Int] {
        let written = Set(writes(site))
        return Array(Set(fusion.tensors(of: site.index, site.op).filter { $0 >= 0 && isActivation($0) && !written.contains($0) }))
            .sorted()
    }

    // MARK: - Tensors (for units)

    private func root(_ t: Int) -> Int {
        var r = t
        while let next = alias[r] { r = next }
        return r
    }

    func isConstant(_ t: Int) -> Bool { constants.contains(t) }

    func isValidTensor(_ t: Int) -> Bool { t >= 0 && t < subgraph.tensors.count }

    private func isActivation(_ t: Int) -> Bool {
        isValidTensor(t) && !isConstant(t) && subgraph.tensors[t].type == .float32
            && ((try? model.bufferData(subgraph.tensors[t].buffer).isEmpty) ?? true)
    }

    func elementCount(_ t: Int) -> Int { subgraph.tensors[t].shape.reduce(1, *) }

    /// The static shape of tensor `t` (every dimension positive).
    func shape(_ t: Int) throws -> [Int] {
        let tensor = subgraph.tensors[t]
        guard tensor.shape.allSatisfy({ $0 > 0 }) else {
            throw RuntimeError.dynamicShape(tensor: t, name: tensor.name, shape: tensor.shape)
        }
        return tensor.shape
    }

    /// The shape of `t` when it is a valid tensor with a static shape, else nil (for fusion planning).
    func staticShape(_ t: Int) -> [Int]? {
        guard isValidTensor(t) else { return nil }
        let s = subgraph.tensors[t].shape
        return s.allSatisfy({ $0 > 0 }) ? s : nil
    }

    /// Checks that tensor `t` is a planned float32 activation.
    func activation(_ t: Int, _ what: String, _ site: OperatorSite) throws -> Int {
        guard isValidTensor(t) else { throw site.fail("\(what) tensor index \(t) is absent or out of range") }
        let tensor = subgraph.tensors[t]
        guard tensor.type == .float32 else {
            throw RuntimeError.unsupportedTensorType(tensor: t, name: tensor.name, type: tensor.type.description)
        }
        guard !isConstant(t) else { throw site.fail("\(what) tensor \(t) '\(tensor.name)' is a constant; expected an activation") }
        _ = try shape(t)
        return t
    }

    /// A convolution's constant weights (input 1: its shape and values) and bias (input 2, or zeros
    /// when absent or -1; `biasCount` gives their number from the weights' shape).
    func convolutionConstants(_ site: OperatorSite, biasCount: ([Int]) -> Int) throws
        -> (weightsShape: [Int], weights: [Float], bias: [Float]) {
        let wT = site.op.inputs[1]
        guard isValidTensor(wT) else { throw site.fail("weights tensor index \(wT) is out of range") }
        let wShape = subgraph.tensors[wT].shape
        let weights = try constantFloats(wT, "weights", site)
        let bias = site.op.inputs.count > 2 && site.op.inputs[2] >= 0
            ? try constantFloats(site.op.inputs[2], "bias", site)
            : [Float](repeating: 0, count: biasCount(wShape))
        return (wShape, weights, bias)
    }

    /// The values of float constant `t` (widened now from the file: dense, dequantized or densified).
    func constantFloats(_ t: Int, _ what: String, _ site: OperatorSite) throws -> [Float] {
        guard isValidTensor(t), let source = constants.sources[t] else {
            throw site.fail("\(what) (tensor \(t)) must be a float constant")
        }
        let values = try model.constantValues(t, in: constants)
        widened.tensors.insert(source.tensor)
        if releasesWidenedBuffers { model.releaseBufferData(subgraph.tensors[source.tensor].buffer) }
        return values
    }

    /// Float constant `t` as `rowCount` rows (a conv's OHWI weights as `[O][KH·KW·I]`), read on
    /// demand by a packer instead of widened to an array first (see `Model.constantRows`): every
    /// check happens here, with the errors `constantFloats` gives. Call `doneReading(t)` once the
    /// rows have been packed.
    func constantRows(_ t: Int, _ what: String, _ site: OperatorSite, rowCount: Int) throws -> WeightRows {
        guard isValidTensor(t), let source = constants.sources[t] else {
            throw site.fail("\(what) (tensor \(t)) must be a float constant")
        }
        let rows = try model.constantRows(t, in: constants, rowCount: rowCount)
        widened.tensors.insert(source.tensor)
        if let values = rows.values { return WeightRows(n: rows.count, k: rows.length, values: values) }
        return WeightRows(n: rows.count, k: rows.length, halves: rows.halves) { first, count, into in
            rows.read(first: first, count: count, into: into)
        }
    }

    /// Float constant `t`, stored sparse in the file, as the entries of `rowCount` rows read straight
    /// from its CSR (see `Model.constantSparseRows`); nil when it is not stored sparse in a layout
    /// that allows it. Every check happens here, with the errors `constantRows` gives. Call
    /// `doneReading(t)` once the rows have been read.
    func constantSparseRows(_ t: Int, _ what: String, _ site: OperatorSite, rowCount: Int) throws -> SparseWeightRows? {
        guard isValidTensor(t), let source = constants.sources[t] else {
            throw site.fail("\(what) (tensor \(t)) must be a float constant")
        }
        guard let rows = try model.constantSparseRows(t, in: constants, rowCount: rowCount) else { return nil }
        widened.tensors.insert(source.tensor)
        // No stored ±0: the kernel may count entries from the columns alone, and (one segment per
        // row) read the file's CSR in place.
        let allNonzero = rows.nonzeroCount == rows.storedCount
        let columns: ((Int, UnsafeMutablePointer<Int32>) -> Int)? = allNonzero
            ? { row, columns in rows.readColumns(row: row, columns: columns) } : nil
        let stored = allNonzero ? rows.stored.flatMap {
            StoredSparseRows(rowStarts: $0.rowStarts, indices: $0.indices, indexWidth: $0.indexWidth, values: $0.values,
                             valuesAreHalf: $0.valuesAreHalf)
        } : nil
        return SparseWeightRows(n: rows.count, k: rows.length, maxRowEntries: rows.maxRowEntries, nonzeroCount: rows.nonzeroCount,
                                columnsWhenAllNonzero: columns, storedWhenAllNonzero: stored) {
            row, columns, values in rows.read(row: row, columns: columns, values: values)
        }
    }

    /// Releases the file pages of constant `t`'s buffer once its rows were packed (when this
    /// interpreter is the model's only user).
    func doneReading(_ t: Int) {
        guard releasesWidenedBuffers, let source = constants.sources[t] else { return }
        model.releaseBufferData(subgraph.tensors[source.tensor].buffer)
    }

    /// The values of INT32 constant `t`.
    func constantInt32s(_ t: Int, _ what: String, _ site: OperatorSite) throws -> [Int] {
        guard isValidTensor(t) else { throw site.fail("\(what) tensor index \(t) is absent or out of range") }
        let tensor = subgraph.tensors[t]
        guard tensor.type == .int32 else { throw site.fail("\(what) (tensor \(t)) must be INT32, is \(tensor.type)") }
        let data = try model.bufferData(tensor.buffer)
        let count = tensor.shape.reduce(1, *)
        guard !data.isEmpty, data.count == count * 4 else {
            throw site.fail("\(what) (tensor \(t)) must be a constant of \(count) INT32 values; its buffer has \(data.count) bytes")
        }
        return (0..<count).map { Int(Int32(littleEndian: data.loadUnaligned(fromByteOffset: $0 * 4, as: Int32.self))) }
    }

    /// Keeps a float constant at a stable address for operators that read it by pointer.
    mutating func storedConstant(_ t: Int, _ site: OperatorSite) throws -> UnsafePointer<Float> {
        if let existing = constantStore[t], let base = existing.baseAddress { return UnsafePointer(base) }
        let values = try constantFloats(t, "operand", site)
        // [count] floats, the constant's row-major layout.
        let base = UnsafeMutablePointer<Float>.allocate(capacity: max(1, values.count))
        base.initialize(from: values, count: values.count)
        constantStore[t] = UnsafeMutableBufferPointer(start: base, count: max(1, values.count))
        return UnsafePointer(base)
    }

    /// Checks that output `y` is declared with the shape the operator computes.
    func checkOutput(_ y: Int, _ computed: [Int], _ site: OperatorSite) throws {
        let declared = try shape(y)
        guard declared == computed else {
            throw site.fail("output tensor \(y) is declared \(declared) but the operator produces \(computed)")
        }
    }

    /// Runs a kernel wrapper's constructor, turning its `KernelError` into a runtime error naming the operator.
    func kernel<T>(_ site: OperatorSite, _ body: () throws -> T) throws -> T {
        do { return try body() } catch let e as KernelError {
            throw RuntimeError.kernel(op: site.index, name: site.name, message: e.description)
        }
    }

    /// Reserves `count` floats of shared scratch for a step.
    mutating func requestScratch(_ count: Int) { scratchCount = max(scratchCount, count) }

    /// Offers `y`, the output of the step at `site`, the memory of `residual`, which that step reads
    /// element by element before writing `y` in the same places (its kernel says so): taken when no
    /// later step reads `residual` (nor a view of it), `residual` is not a graph input or output and
    /// not the step's `input`, and the two have the same size. Decided when lifetimes are known
    /// (`build`); only with `inPlaceResidual`, never with `preserveIntermediates` (which keeps every
    /// tensor readable).
    mutating func offerInPlace(output y: Int, residual: Int, input x: Int, _ site: OperatorSite) {
        inPlaceOffers.append((output: y, residual: residual, input: x, op: site.index))
    }

    /// Makes `y` a view of `x`'s storage (no copy).
    mutating func makeView(_ y: Int, of x: Int, _ site: OperatorSite) throws {
        guard alias[y] == nil, !subgraph.inputs.contains(y) else { throw site.fail("output tensor \(y) is written twice") }
        alias[y] = root(x)
    }

    // MARK: - Fusion decisions (for units)

    /// The tensor the operator reads as its first input: the PAD's input when a PAD was folded in,
    /// the RESIZE_BILINEAR's input when the operator computes that resize.
    func fusedInput(_ site: OperatorSite) throws -> Int {
        try fusion.paddedInput[site.index]?.tensor ?? fusion.resizedInput[site.index]?.tensor ?? site.input(0, "input")
    }

    /// The tensor the operator writes: the last absorbed operator's output when it absorbed one.
    func fusedOutput(_ site: OperatorSite) -> Int {
        fusion.output[site.index] ?? site.op.outputs[0]
    }

    /// The operator's padding, or the explicit padding of a folded PAD.
    func fusedPadding(_ site: OperatorSite, own: Padding) -> Padding {
        fusion.paddedInput[site.index].map { .explicit(top: $0.top, bottom: $0.bottom, left: $0.left, right: $0.right) } ?? own
    }

    /// The operator's activation, or a folded RELU.
    func fusedActivation(_ site: OperatorSite, own: FusedActivation) -> FusedActivation {
        fusion.activation[site.index] ?? own
    }
}

extension GraphBuilder {
    /// The constant sources a `GraphBuilder` has widened (a reference, so that non-mutating
    /// accessors can note them).
    final class WidenedSources {
        var tensors = Set<Int>()
    }
}
