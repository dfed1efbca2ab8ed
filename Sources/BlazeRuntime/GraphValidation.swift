import TFLite

/// Checks made once on a whole subgraph before anything is resolved or allocated, in the manner of
/// the FlatBuffers verifier: every tensor's element count and byte size with overflow-checked
/// arithmetic (used or not), the memory the constants will take against the budget, a graph with
/// no operators, and graph outputs that no operator writes.
public enum GraphValidation {
    /// The checks `Interpreter.init` makes before it resolves or allocates anything, on the
    /// subgraph it would run (the first), without building it: what `blazepose inspect` reports.
    /// Unsupported operators are not checked here (see ``OperatorRegistry``).
    /// - Throws: ``RuntimeError`` naming the tensor or operator index and the size asked for.
    public static func validate(_ model: Model, memoryBudget: Int = InterpreterOptions().memoryBudget) throws {
        guard let subgraph = model.subgraphs.first else { throw RuntimeError.noSubgraph }
        _ = try check(model, subgraph: subgraph, budget: memoryBudget)
    }

    /// Bytes of one element of a tensor of `type` (4 for the types whose size the schema does not fix).
    private static func elementBytes(_ type: TensorType) -> Int { type.byteSize ?? 4 }

    /// Element count of `shape`, or nil when a dimension is negative or the product overflows.
    static func checkedCount(_ shape: [Int]) -> Int? {
        var product = 1
        for dim in shape {
            guard dim >= 0 else { return nil }
            let (next, overflow) = product.multipliedReportingOverflow(by: dim)
            guard !overflow else { return nil }
            product = next
        }
        return product
    }

    /// Validates `subgraph` of `model` against `budget` bytes. Returns the bytes the resolved float32
    /// constants will take.
    static func check(_ model: Model, subgraph: Subgraph, budget: Int) throws -> Int {
        guard !subgraph.operators.isEmpty else { throw RuntimeError.emptyGraph }
        // Indices (the reader checked them for a file; a `Model` edited in memory may not hold them).
        let tensorCount = subgraph.tensors.count
        for (o, op) in subgraph.operators.enumerated() {
            // The operator's name only for an error (building it for every operator costs ~0.1 ms a model).
            func name() -> String { OperatorKind(of: op, in: model).description }
            for t in op.inputs where t < -1 || t >= tensorCount {
                throw RuntimeError.invalidOperator(op: o, name: name(), detail: "input tensor index \(t) out of range -1..<\(tensorCount)")
            }
            for t in op.outputs where t < 0 || t >= tensorCount {
                throw RuntimeError.invalidOperator(op: o, name: name(), detail: "output tensor index \(t) out of range 0..<\(tensorCount)")
            }
        }
        for (kind, list) in [("input", subgraph.inputs), ("output", subgraph.outputs)] {
            for t in list where t < 0 || t >= tensorCount {
                throw RuntimeError.invalidGraph(detail: "graph \(kind) tensor index \(t) out of range 0..<\(tensorCount)")
            }
        }
        // Every tensor: a representable size within the budget, float32 or not, used or not.
        for (t, tensor) in subgraph.tensors.enumerated() {
            // -1 marks a dynamic dimension; it is rejected later where the tensor is used.
            let staticShape = tensor.shape.map { $0 == -1 ? 1 : $0 }
            guard let count = checkedCount(staticShape) else {
                throw RuntimeError.tensorSize(tensor: t, name: tensor.name, shape: tensor.shape,
                                              detail: "has a negative dimension or an element count that overflows")
            }
            let (bytes, overflow) = count.multipliedReportingOverflow(by: elementBytes(tensor.type))
            guard !overflow, bytes <= budget else {
                throw RuntimeError.tensorSize(tensor: t, name: tensor.name, shape: tensor.shape,
                                              detail: "needs \(overflow ? "more than \(Int.max)" : "\(bytes)") bytes, over the memory budget of \(budget) bytes")
            }
        }
        // Resolved constants are float32: plain constant buffers and DEQUANTIZE/DENSIFY outputs.
        var constantTensors = Set<Int>()
        for (t, tensor) in subgraph.tensors.enumerated() where tensor.type == .float32 {
            if let data = try? model.bufferData(tensor.buffer), !data.isEmpty { constantTensors.insert(t) }
        }
        for op in subgraph.operators {
            let code = model.opcode(of: op)
            if code == .dequantize || code == .densify { constantTensors.formUnion(op.outputs) }
        }
        var constantBytes = 0
        // In index order, so that the error names the same tensor on every run (a `Set` iterates in
        // a per-process order). A dimension counts as at least 1 here, so a shape that holds no
        // element above (a 0 next to huge dimensions) can still overflow: checked, not trapped.
        for t in constantTensors.sorted() {
            let count = checkedCount(subgraph.tensors[t].shape.map { max($0, 1) })
            let (bytes, o1) = (count ?? Int.max).multipliedReportingOverflow(by: 4)
            let (sum, o2) = constantBytes.addingReportingOverflow(bytes)
            guard count != nil, !o1, !o2, sum <= budget else {
                throw RuntimeError.memoryBudget(needed: count == nil || o1 || o2 ? Int.max : sum, budget: budget,
                                                detail: "the float32 constants (tensor \(t) and earlier) alone")
            }
            constantBytes = sum
        }
        // Graph inputs and outputs have static shapes (this runtime does not resize tensors).
        for t in subgraph.inputs + subgraph.outputs {
            let tensor = subgraph.tensors[t]
            guard tensor.shape.allSatisfy({ $0 > 0 }) else {
                throw RuntimeError.dynamicShape(tensor: t, name: tensor.name, shape: tensor.shape)
            }
        }
        // Graph outputs must be written by an operator (or be graph inputs or constants).
        var produced = Set(subgraph.inputs)
        for op in subgraph.operators { produced.formUnion(op.outputs) }
        for t in subgraph.outputs where !produced.contains(t) && !constantTensors.contains(t) {
            throw RuntimeError.outputNotProduced(tensor: t, name: subgraph.tensors[t].name)
        }
        return constantBytes
    }
}
