import BlazeKernels
import Foundation
import TFLite

/// Turns a subgraph into executable steps and a memory plan. Every check on the
/// file's operators happens here, once, at load; the steps it builds never validate.
struct GraphBuilder {
    let model: Model
    let subgraph: Subgraph
    let constants: [Int: [Float]]
    let options: InterpreterOptions

    private(set) var steps: [Interpreter.Step] = []
    private(set) var plan = MemoryPlan(arenaCount: 0, offsets: [], unsharedCount: 0)
    private(set) var constantStore: [Int: UnsafeMutableBufferPointer<Float>] = [:]
    private(set) var scratchCount = 0

    /// Union-find root for tensors that share storage (RESHAPE output → its input).
    private var alias: [Int: Int] = [:]
    private var opName = ""
    private var opIndex = 0
    /// Fusions applied while building (see `FusionPlan`).
    private var fusion = FusionPlan()

    init(model: Model, subgraph: Subgraph, constants: [Int: [Float]], options: InterpreterOptions) throws {
        self.model = model
        self.subgraph = subgraph
        self.constants = constants
        self.options = options
    }

    mutating func build() throws {
        // Pass 1: validate, note aliases and build kernels. Steps capture tensor
        // indices; offsets are bound after planning.
        var pending: [(op: Int, name: String, flops: Double, make: (_ offset: (Int) -> Int) -> (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>?, ThreadPool) -> Void)] = []
        fusion = options.fuseOperators ? planFusions() : FusionPlan()
        for (index, op) in subgraph.operators.enumerated() {
            opIndex = index
            let code = model.opcode(of: op)
            opName = code.description
            if (code == .dequantize || code == .densify), op.outputs.count == 1, constants[op.outputs[0]] != nil {
                continue  // folded at load
            }
            if fusion.absorbed.contains(index) { continue }  // done by another operator's step
            if let step = try makeStep(op, code) {
                pending.append((index, opName, step.flops, step.make))
            }
        }

        // Pass 2: lifetimes of activation storage roots, then the plan.
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
        var requests: [BufferRequest] = []
        for (r, f) in first.sorted(by: { $0.key < $1.key }) {
            requests.append(BufferRequest(tensor: r, count: max(1, elementCount(r)), firstUse: f, lastUse: last[r] ?? f))
        }
        let rootPlan = MemoryPlanner.plan(requests, tensorCount: subgraph.tensors.count,
                                          shareMemory: !options.preserveIntermediates)
        var offsets = rootPlan.offsets
        for t in alias.keys { offsets[t] = rootPlan.offsets[root(t)] }
        plan = MemoryPlan(arenaCount: rootPlan.arenaCount, offsets: offsets, unsharedCount: rootPlan.unsharedCount)

        let finalOffsets = offsets
        steps = pending.map { p in
            Interpreter.Step(op: p.op, name: p.name, flops: p.flops, run: p.make { finalOffsets[$0] ?? 0 })
        }
    }

    // MARK: - Tensors

    private func root(_ t: Int) -> Int {
        var r = t
        while let next = alias[r] { r = next }
        return r
    }

    private func isConstant(_ t: Int) -> Bool { constants[t] != nil }

    private func isActivation(_ t: Int) -> Bool {
        t >= 0 && t < subgraph.tensors.count && !isConstant(t) && subgraph.tensors[t].type == .float32
            && ((try? model.bufferData(subgraph.tensors[t].buffer).isEmpty) ?? true)
    }

    private func elementCount(_ t: Int) -> Int { subgraph.tensors[t].shape.reduce(1, *) }

    private func fail(_ detail: String) -> RuntimeError {
        .invalidOperator(op: opIndex, name: opName, detail: detail)
    }

    private func shape(_ t: Int) throws -> [Int] {
        let tensor = subgraph.tensors[t]
        guard tensor.shape.allSatisfy({ $0 > 0 }) else {
            throw RuntimeError.dynamicShape(tensor: t, name: tensor.name, shape: tensor.shape)
        }
        return tensor.shape
    }

    /// Checks that tensor `t` is a planned float32 activation.
    private func activation(_ t: Int, _ what: String) throws -> Int {
        guard t >= 0, t < subgraph.tensors.count else { throw fail("\(what) tensor index \(t) is absent or out of range") }
        let tensor = subgraph.tensors[t]
        guard tensor.type == .float32 else {
            throw RuntimeError.unsupportedTensorType(tensor: t, name: tensor.name, type: tensor.type.description)
        }
        guard !isConstant(t) else { throw fail("\(what) tensor \(t) '\(tensor.name)' is a constant; expected an activation") }
        _ = try shape(t)
        return t
    }

    private func constantFloats(_ t: Int, _ what: String) throws -> [Float] {
        guard t >= 0, t < subgraph.tensors.count, let values = constants[t] else {
            throw fail("\(what) (tensor \(t)) must be a float constant")
        }
        return values
    }

    func constantInt32s(_ t: Int, _ what: String) throws -> [Int] {
        guard t >= 0, t < subgraph.tensors.count else { throw fail("\(what) tensor index \(t) is absent or out of range") }
        let tensor = subgraph.tensors[t]
        guard tensor.type == .int32 else { throw fail("\(what) (tensor \(t)) must be INT32, is \(tensor.type)") }
        let data = try model.bufferData(tensor.buffer)
        let count = tensor.shape.reduce(1, *)
        guard !data.isEmpty, data.count == count * 4 else {
            throw fail("\(what) (tensor \(t)) must be a constant of \(count) INT32 values; its buffer has \(data.count) bytes")
        }
        return (0..<count).map { Int(Int32(littleEndian: data.loadUnaligned(fromByteOffset: $0 * 4, as: Int32.self))) }
    }

    /// Keeps a float constant at a stable address for operators that read it by pointer.
    private mutating func storedConstant(_ t: Int) throws -> UnsafePointer<Float> {
        if let existing = constantStore[t] { return UnsafePointer(existing.baseAddress!) }
        let values = try constantFloats(t, "operand")
        let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(1, values.count))
        _ = buffer.initialize(from: values)
        constantStore[t] = buffer
        return UnsafePointer(buffer.baseAddress!)
    }

    func activationKind(_ a: TFLite.FusedActivation) throws -> BlazeKernels.FusedActivation {
        switch a {
        case .none: return .none
        case .relu: return .relu
        case .relu6: return .relu6
        case .reluN1To1: return .reluN1To1
        case .tanh, .signBit:
            throw RuntimeError.unsupportedOption(op: opIndex, name: opName, detail: "fused activation \(a)")
        }
    }

    private func padding(_ p: TFLite.Padding) -> BlazeKernels.Padding { p == .same ? .same : .valid }

    private func kernel<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let e as KernelError {
            throw RuntimeError.kernel(op: opIndex, name: opName, message: e.description)
        }
    }

    private func arity(_ op: Operator, inputs: ClosedRange<Int>, outputs: Int = 1) throws {
        guard inputs.contains(op.inputs.count), op.outputs.count == outputs else {
            throw fail("expects \(inputs) inputs and \(outputs) output(s), has \(op.inputs.count) and \(op.outputs.count)")
        }
    }

    // MARK: - Operators

    private typealias Make = (_ offset: (Int) -> Int) -> (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>?, ThreadPool) -> Void

    private mutating func makeStep(_ op: Operator, _ code: BuiltinOperator) throws -> (flops: Double, make: Make)? {
        switch (code, op.options) {
        case let (.conv2D, .conv2D(o)):
            try arity(op, inputs: 2...3)
            let x = try activation(fusion.paddedInput[opIndex]?.tensor ?? op.inputs[0], "input")
            let y = try activation(fusion.output[opIndex] ?? op.outputs[0], "output")
            let wShape = subgraph.tensors[op.inputs[1]].shape
            let weights = try constantFloats(op.inputs[1], "weights")
            let bias = op.inputs.count > 2 && op.inputs[2] >= 0 ? try constantFloats(op.inputs[2], "bias") : [Float](repeating: 0, count: wShape.first ?? 0)
            let xShape = try shape(x)
            let act = try fusion.activation[opIndex] ?? activationKind(o.activation)
            let backend = options.gemmBackend
            let convPadding = fusion.paddedInput[opIndex].map {
                BlazeKernels.Padding.explicit(top: $0.top, bottom: $0.bottom, left: $0.left, right: $0.right)
            } ?? padding(o.padding)
            let conv = try kernel {
                try Conv2DOperator(inputShape: xShape, weights: weights, weightsShape: wShape, bias: bias,
                                   strideHeight: o.strideH, strideWidth: o.strideW,
                                   dilationHeight: o.dilationH, dilationWidth: o.dilationW,
                                   padding: convPadding, activation: act, backend: backend)
            }
            try checkOutput(y, conv.outputShape.dims)
            scratchCount = max(scratchCount, conv.scratchCount(threads: options.threads))
            let flops = 2.0 * Double(conv.outputShape.elementCount) * Double(wShape.dropFirst().reduce(1, *))
            if let skip = fusion.residual[opIndex] {
                // Fused ADD: the planner saw the skip tensor as read by this step.
                let s = try activation(skip.tensor, "residual"), ld = conv.outputShape.channels, skipAct = skip.activation
                try checkOutput(s, conv.outputShape.dims)
                return (flops, { off in
                    let xo = off(x), yo = off(y), so = off(s)
                    return { arena, scratch, pool in
                        conv.run(input: arena + xo, output: arena + yo, scratch: scratch, pool: pool,
                                 residual: GemmResidual(data: arena + so, ld: ld, activation: skipAct))
                    }
                })
            }
            return (flops, { off in
                let xo = off(x), yo = off(y)
                return { arena, scratch, pool in conv.run(input: arena + xo, output: arena + yo, scratch: scratch, pool: pool) }
            })

        case let (.depthwiseConv2D, .depthwiseConv2D(o)):
            try arity(op, inputs: 2...3)
            let x = try activation(fusion.paddedInput[opIndex]?.tensor ?? op.inputs[0], "input")
            let y = try activation(fusion.output[opIndex] ?? op.outputs[0], "output")
            let wShape = subgraph.tensors[op.inputs[1]].shape
            let weights = try constantFloats(op.inputs[1], "weights")
            let bias = op.inputs.count > 2 && op.inputs[2] >= 0 ? try constantFloats(op.inputs[2], "bias") : [Float](repeating: 0, count: wShape.last ?? 0)
            let xShape = try shape(x)
            let act = try fusion.activation[opIndex] ?? activationKind(o.activation)
            let convPadding = fusion.paddedInput[opIndex].map {
                BlazeKernels.Padding.explicit(top: $0.top, bottom: $0.bottom, left: $0.left, right: $0.right)
            } ?? padding(o.padding)
            let conv = try kernel {
                try DepthwiseConv2DOperator(inputShape: xShape, weights: weights, weightsShape: wShape, bias: bias,
                                            depthMultiplier: o.depthMultiplier, strideHeight: o.strideH, strideWidth: o.strideW,
                                            dilationHeight: o.dilationH, dilationWidth: o.dilationW,
                                            padding: convPadding, activation: act)
            }
            try checkOutput(y, conv.outputShape.dims)
            scratchCount = max(scratchCount, conv.scratchCount(threads: options.threads))
            let kernelArea = wShape.count == 4 ? wShape[1] * wShape[2] : 0
            let flops = 2.0 * Double(conv.outputShape.elementCount) * Double(kernelArea)
            return (flops, { off in
                let xo = off(x), yo = off(y)
                return { arena, scratch, pool in conv.run(input: arena + xo, output: arena + yo, scratch: scratch, pool: pool) }
            })

        case let (.add, .add(o)):
            try arity(op, inputs: 2...2)
            let y = try activation(fusion.output[opIndex] ?? op.outputs[0], "output")
            let act = try fusion.activation[opIndex] ?? activationKind(o.activation)
            let aT = op.inputs[0], bT = op.inputs[1]
            guard aT >= 0, bT >= 0, aT < subgraph.tensors.count, bT < subgraph.tensors.count else { throw fail("operand tensor index out of range") }
            let add = try kernel { try AddOperator(aShape: try shape(aT), bShape: try shape(bT), activation: act) }
            try checkOutput(y, add.outputShape)
            let aConst = isConstant(aT) ? try storedConstant(aT) : nil
            let bConst = isConstant(bT) ? try storedConstant(bT) : nil
            if aConst == nil { _ = try activation(aT, "first operand") }
            if bConst == nil { _ = try activation(bT, "second operand") }
            return (0, { off in
                let ao = off(aT), bo = off(bT), yo = off(y)
                return { arena, _, pool in
                    add.run(a: aConst ?? UnsafePointer(arena + ao), b: bConst ?? UnsafePointer(arena + bo), output: arena + yo, pool: pool)
                }
            })

        case (.pad, _):
            try arity(op, inputs: 2...2)
            let x = try activation(op.inputs[0], "input"), y = try activation(op.outputs[0], "output")
            let flat = try constantInt32s(op.inputs[1], "paddings")
            let xShape = try shape(x)
            guard flat.count == 2 * xShape.count else { throw fail("paddings has \(flat.count) values for a rank-\(xShape.count) input") }
            let paddings = stride(from: 0, to: flat.count, by: 2).map { [flat[$0], flat[$0 + 1]] }
            let pad = try kernel { try PadOperator(inputShape: xShape, paddings: paddings) }
            try checkOutput(y, pad.outputShape)
            return (0, { off in
                let xo = off(x), yo = off(y)
                return { arena, _, pool in pad.run(input: arena + xo, output: arena + yo, pool: pool) }
            })

        case let (.maxPool2D, .pool2D(o)):
            try arity(op, inputs: 1...1)
            let x = try activation(op.inputs[0], "input"), y = try activation(op.outputs[0], "output")
            let act = try activationKind(o.activation)
            let xShape = try shape(x)
            let pool2D = try kernel {
                try MaxPool2DOperator(inputShape: xShape, filterHeight: o.filterHeight, filterWidth: o.filterWidth,
                                      strideHeight: o.strideH, strideWidth: o.strideW, padding: padding(o.padding), activation: act)
            }
            try checkOutput(y, pool2D.outputShape.dims)
            return (0, { off in
                let xo = off(x), yo = off(y)
                return { arena, _, pool in pool2D.run(input: arena + xo, output: arena + yo, pool: pool) }
            })

        case let (.resizeBilinear, .resizeBilinear(o)):
            try arity(op, inputs: 2...2)
            let x = try activation(op.inputs[0], "input"), y = try activation(op.outputs[0], "output")
            let size = try constantInt32s(op.inputs[1], "size")
            guard size.count == 2 else { throw fail("size must hold 2 values, has \(size.count)") }
            let xShape = try shape(x)
            let resize = try kernel {
                try ResizeBilinearOperator(inputShape: xShape, outputHeight: size[0], outputWidth: size[1],
                                           alignCorners: o.alignCorners, halfPixelCenters: o.halfPixelCenters)
            }
            try checkOutput(y, resize.outputShape.dims)
            return (0, { off in
                let xo = off(x), yo = off(y)
                return { arena, _, pool in resize.run(input: arena + xo, output: arena + yo, pool: pool) }
            })

        case let (.depthToSpace, .depthToSpace(o)):
            try arity(op, inputs: 1...1)
            let x = try activation(op.inputs[0], "input"), y = try activation(op.outputs[0], "output")
            let xShape = try shape(x)
            let d2s = try kernel { try DepthToSpaceOperator(inputShape: xShape, blockSize: o.blockSize) }
            try checkOutput(y, d2s.outputShape.dims)
            return (0, { off in
                let xo = off(x), yo = off(y)
                return { arena, _, pool in d2s.run(input: arena + xo, output: arena + yo, pool: pool) }
            })

        case let (.concatenation, .concatenation(o)):
            try arity(op, inputs: 1...64)
            let y = try activation(op.outputs[0], "output")
            let act = try activationKind(o.activation)
            guard act == .none else { throw RuntimeError.unsupportedOption(op: opIndex, name: opName, detail: "fused activation \(o.activation)") }
            var sources: [(tensor: Int, constant: UnsafePointer<Float>?)] = []
            for t in op.inputs {
                guard t >= 0, t < subgraph.tensors.count else { throw fail("input tensor index \(t) out of range") }
                sources.append(isConstant(t) ? (t, try storedConstant(t)) : (try activation(t, "input"), nil))
            }
            let shapes = try op.inputs.map { try shape($0) }
            let concat = try kernel { try ConcatenationOperator(inputShapes: shapes, axis: o.axis) }
            try checkOutput(y, concat.outputShape)
            return (0, { off in
                let offsets = sources.map { off($0.tensor) }, yo = off(y)
                return { arena, _, pool in
                    var inputs: [UnsafePointer<Float>] = []
                    inputs.reserveCapacity(sources.count)
                    for (i, s) in sources.enumerated() { inputs.append(s.constant ?? UnsafePointer(arena + offsets[i])) }
                    concat.run(inputs: inputs, output: arena + yo, pool: pool)
                }
            })

        case (.reshape, _):
            try arity(op, inputs: 1...2)
            let x = try activation(op.inputs[0], "input"), y = try activation(op.outputs[0], "output")
            guard elementCount(x) == (try shape(y)).reduce(1, *) else {
                throw fail("reshape from \(try shape(x)) to \(try shape(y)) changes the element count")
            }
            // No copy: the output is a view of the input's storage.
            guard alias[y] == nil, !subgraph.inputs.contains(y) else { throw fail("output tensor \(y) is written twice") }
            alias[y] = root(x)
            return nil

        case (.relu, _), (.logistic, _):
            try arity(op, inputs: 1...1)
            let x = try activation(op.inputs[0], "input"), y = try activation(op.outputs[0], "output")
            let xShape = try shape(x)
            try checkOutput(y, xShape)
            let unary = try kernel { try UnaryOperator(kind: code == .relu ? .relu : .logistic, shape: xShape) }
            return (0, { off in
                let xo = off(x), yo = off(y)
                return { arena, _, pool in unary.run(input: arena + xo, output: arena + yo, pool: pool) }
            })

        case (.conv2D, _), (.depthwiseConv2D, _), (.add, _), (.maxPool2D, _), (.resizeBilinear, _),
             (.depthToSpace, _), (.concatenation, _):
            throw fail("builtin options are missing or of the wrong type")

        default:
            throw RuntimeError.unsupportedOperator(op: opIndex, name: opName)
        }
    }

    private func checkOutput(_ y: Int, _ computed: [Int]) throws {
        let declared = try shape(y)
        guard declared == computed else {
            throw fail("output tensor \(y) is declared \(declared) but the operator produces \(computed)")
        }
    }
}
