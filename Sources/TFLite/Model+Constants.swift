/// Load-time resolution of constant tensors to float32: plain FLOAT32 buffers, DENSIFY of sparse
/// constants and DEQUANTIZE of constant FLOAT16 / INT8 / UINT8 tensors (including DENSIFY → DEQUANTIZE
/// chains), as LiteRT computes them.
extension Model {
    /// Float32 values (row-major over `tensor.shape`) of every constant float tensor of `subgraph`,
    /// keyed by tensor index: constant FLOAT32 buffers, outputs of DENSIFY with a constant sparse input
    /// (FLOAT32 or FLOAT16, widened exactly), and outputs of DEQUANTIZE whose input is constant or a
    /// resolved DENSIFY output.
    /// - Throws: `TFLiteError` naming the tensor/operator when a buffer has the wrong size, sparsity
    ///   metadata is inconsistent or an index read from it is out of range.
    public func resolveConstants(subgraph index: Int = 0) throws -> [Int: [Float]] {
        guard index >= 0, index < subgraphs.count else {
            throw TFLiteError.invalidModel(what: "subgraph \(index) out of range 0..<\(subgraphs.count)", location: "")
        }
        let graph = subgraphs[index]
        var resolved: [Int: [Float]] = [:]
        for (t, tensor) in graph.tensors.enumerated() where tensor.type == .float32 && tensor.sparsity == nil {
            let data = try bufferData(tensor.buffer)
            guard !data.isEmpty else { continue }
            resolved[t] = try denseValues(of: tensor, data: data, location: "subgraph \(index), tensor \(t)")
        }
        for (o, op) in graph.operators.enumerated() {
            let location = "subgraph \(index), operator \(o)"
            let code = opcode(of: op)
            guard code == .densify || code == .dequantize else { continue }
            guard op.inputs.count == 1, op.outputs.count == 1, op.inputs[0] >= 0 else {
                throw TFLiteError.invalidModel(what: "\(code) needs exactly 1 input and 1 output, has \(op.inputs.count) and \(op.outputs.count)", location: location)
            }
            let input = graph.tensors[op.inputs[0]], outputIndex = op.outputs[0], output = graph.tensors[outputIndex]
            let values: [Float]
            if let known = resolved[op.inputs[0]] {
                values = known
            } else {
                let data = try bufferData(input.buffer)
                guard !data.isEmpty else { continue }   // a runtime input, not a constant
                if code == .densify {
                    guard let sparsity = input.sparsity else {
                        throw TFLiteError.invalidModel(what: "DENSIFY input tensor \(op.inputs[0]) has no sparsity parameters", location: location)
                    }
                    values = try densify(input, sparsity: sparsity, data: data, location: "\(location), tensor \(op.inputs[0])")
                } else {
                    guard input.sparsity == nil else {
                        throw TFLiteError.unsupported(what: "DEQUANTIZE of a sparse tensor without DENSIFY", location: location)
                    }
                    values = try denseValues(of: input, data: data, location: "\(location), tensor \(op.inputs[0])")
                }
            }
            guard let count = output.elementCount, count == values.count else {
                throw TFLiteError.invalidModel(what: "\(code) output tensor \(outputIndex) shape \(output.shape) does not hold \(values.count) values", location: location)
            }
            resolved[outputIndex] = values
        }
        return resolved
    }

    /// Largest dense tensor we will materialise: bounds memory for hostile shapes.
    var maxConstantElements: Int { max(1 << 20, min(1 << 26, 64 * storage.bytes.count)) }

    /// Float32 values of a dense constant tensor stored as FLOAT32, FLOAT16, or affine-quantized INT8/UINT8.
    func denseValues(of tensor: Tensor, data: UnsafeRawBufferPointer, location: String) throws -> [Float] {
        guard let count = tensor.elementCount, count <= maxConstantElements else {
            throw TFLiteError.invalidModel(what: "constant tensor shape \(tensor.shape) is too large", location: location)
        }
        guard let size = tensor.type.byteSize, data.count == count * size else {
            throw TFLiteError.invalidModel(what: "constant \(tensor.type) tensor of shape \(tensor.shape) has \(data.count) bytes of data", location: location)
        }
        switch tensor.type {
        case .float32:
            return [Float](unsafeUninitializedCapacity: count) { out, initialized in
                for i in 0..<count { out[i] = Float(bitPattern: UInt32(littleEndian: data.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))) }
                initialized = count
            }
        case .float16:
            return [Float](unsafeUninitializedCapacity: count) { out, initialized in
                for i in 0..<count { out[i] = halfToFloat(UInt16(littleEndian: data.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) }
                initialized = count
            }
        case .int8, .uint8:
            let signed = tensor.type == .int8
            return try dequantize(tensor, count: count, location: location) { i in signed ? Int(Int8(bitPattern: data[i])) : Int(data[i]) }
        default:
            throw TFLiteError.unsupported(what: "constant of type \(tensor.type) cannot be resolved to float32", location: location)
        }
    }

    /// `scale * (q - zeroPoint)` per tensor or along `quantizedDimension` (as TFLite's reference DEQUANTIZE).
    private func dequantize(_ tensor: Tensor, count: Int, location: String, _ q: (Int) -> Int) throws -> [Float] {
        guard let quant = tensor.quantization, !quant.scale.isEmpty, quant.zeroPoint.count == quant.scale.count else {
            throw TFLiteError.invalidModel(what: "quantized constant has no consistent scale/zero_point", location: location)
        }
        guard count > 0 else { return [] }
        if quant.scale.count == 1 {
            let scale = quant.scale[0], zero = Int(truncatingIfNeeded: quant.zeroPoint[0])
            return (0..<count).map { scale * Float(q($0) - zero) }
        }
        let axis = quant.quantizedDimension
        guard axis >= 0, axis < tensor.shape.count, tensor.shape[axis] == quant.scale.count else {
            throw TFLiteError.invalidModel(what: "per-channel quantization axis \(axis) does not match shape \(tensor.shape) with \(quant.scale.count) scales", location: location)
        }
        let inner = tensor.shape[(axis + 1)...].reduce(1, *), channels = tensor.shape[axis]
        return (0..<count).map { i in
            let c = (i / inner) % channels
            return quant.scale[c] * Float(q(i) - Int(truncatingIfNeeded: quant.zeroPoint[c]))
        }
    }

    /// Expands a sparse constant to its dense row-major form (TFLite's sparsity format: `traversalOrder`
    /// over the `n` tensor dims then `k` block dims, `blockMap`, and per-level DENSE / SPARSE_CSR metadata).
    /// Every index read from the metadata is bounds-checked.
    func densify(_ tensor: Tensor, sparsity: Sparsity, data: UnsafeRawBufferPointer, location: String) throws -> [Float] {
        func bad(_ what: String) -> TFLiteError { .invalidModel(what: "sparsity: " + what, location: location) }
        let shape = tensor.shape, n = shape.count, k = sparsity.blockMap.count, levels = n + k
        guard let denseCount = tensor.elementCount, denseCount <= maxConstantElements else {
            throw bad("dense shape \(shape) is too large")
        }
        // The walk below recurses once per level; real tensors have a handful, hostile files could claim thousands.
        guard levels <= 16 else { throw bad("\(levels) levels (rank \(n) + \(k) block dims); at most 16 are supported") }
        guard sparsity.traversalOrder.count == levels, sparsity.dimensionMetadata.count == levels else {
            throw bad("traversal_order has \(sparsity.traversalOrder.count) and dim_metadata \(sparsity.dimensionMetadata.count) entries; expected \(levels) (rank \(n) + \(k) block dims)")
        }
        guard Set(sparsity.traversalOrder) == Set(0..<levels) else {
            throw bad("traversal_order \(sparsity.traversalOrder) is not a permutation of 0..<\(levels)")
        }
        guard sparsity.blockMap.allSatisfy({ $0 >= 0 && $0 < n }), Set(sparsity.blockMap).count == k else {
            throw bad("block_map \(sparsity.blockMap) is not a set of distinct dims of rank \(n)")
        }
        // Expanded dims: 0..<n are the block-grid dims of the tensor, n..<n+k the block dims.
        var expanded = shape + Array(repeating: 0, count: k)
        var blockOf = Array(repeating: -1, count: n)     // tensor dim -> block dim index, or -1
        for (i, dim) in sparsity.blockMap.enumerated() {
            guard let level = sparsity.traversalOrder.firstIndex(of: n + i),
                  case let .dense(blockSize) = sparsity.dimensionMetadata[level], blockSize > 0,
                  shape[dim] % blockSize == 0 else {
                throw bad("block dim \(n + i) must be a dense level whose size divides dim \(dim) of shape \(shape)")
            }
            expanded[n + i] = blockSize
            expanded[dim] = shape[dim] / blockSize
            blockOf[dim] = i
        }
        // An empty tensor has nothing to place (and its strides below could overflow for hostile shapes).
        guard denseCount > 0 else { return [] }
        guard let elementSize = tensor.type.byteSize, tensor.type == .float32 || tensor.type == .float16 else {
            throw TFLiteError.unsupported(what: "sparse constant of type \(tensor.type)", location: location)
        }
        guard data.count % elementSize == 0 else { throw bad("value buffer of \(data.count) bytes is not a whole number of \(tensor.type)") }
        let valueCount = data.count / elementSize
        let isHalf = tensor.type == .float16
        func value(_ i: Int) -> Float {
            isHalf ? halfToFloat(UInt16(littleEndian: data.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
                   : Float(bitPattern: UInt32(littleEndian: data.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
        }
        var strides = Array(repeating: 1, count: n)      // row-major strides of the dense tensor
        if n > 1 { for d in stride(from: n - 2, through: 0, by: -1) { strides[d] = strides[d + 1] * shape[d + 1] } }

        var dense = [Float](repeating: 0, count: denseCount)
        var coordinate = Array(repeating: 0, count: levels)   // indexed by expanded dim
        // Depth-first walk of the levels; `position` is the index of the current node within its level.
        func visit(level: Int, position: Int) throws {
            if level == levels {
                guard position < valueCount else { throw bad("value index \(position) out of range 0..<\(valueCount)") }
                var linear = 0
                for d in 0..<n {
                    let b = blockOf[d]
                    let c = b < 0 ? coordinate[d] : coordinate[d] * expanded[n + b] + coordinate[n + b]
                    linear += c * strides[d]
                }
                dense[linear] = value(position)
                return
            }
            let dim = sparsity.traversalOrder[level]
            switch sparsity.dimensionMetadata[level] {
            case let .dense(size):
                guard size == expanded[dim] else { throw bad("dense level \(level) has size \(size), dim \(dim) has \(expanded[dim])") }
                for i in 0..<size {
                    coordinate[dim] = i
                    try visit(level: level + 1, position: position * size + i)
                }
            case let .sparseCSR(segments, indices):
                guard position + 1 < segments.count else { throw bad("array_segments of level \(level) has \(segments.count) entries, needs index \(position + 1)") }
                let begin = segments[position], end = segments[position + 1]
                guard begin >= 0, begin <= end, end <= indices.count else {
                    throw bad("segment \(begin)..<\(end) of level \(level) is outside array_indices (\(indices.count) entries)")
                }
                for j in begin..<end {
                    let c = indices[j]
                    guard c >= 0, c < expanded[dim] else { throw bad("index \(c) at level \(level) out of range 0..<\(expanded[dim])") }
                    coordinate[dim] = c
                    try visit(level: level + 1, position: j)
                }
            }
        }
        try visit(level: 0, position: 0)
        return dense
    }
}

/// Exact IEEE binary16 → binary32 widening by bit manipulation (every half is representable as a float).
///
/// Used instead of `Float(Float16(bitPattern:))`, which on x86-64 without F16C compiles to a libcall per
/// element. NaNs keep sign and payload (shifted into the top of the float mantissa), as the FP16
/// library that TFLite uses does. Tested against `Float(Float16)` for all 65,536 inputs.
@inline(__always)
public func halfToFloat(_ h: UInt16) -> Float {
    let sign = UInt32(h & 0x8000) << 16
    let exponent = UInt32(h >> 10) & 0x1F
    let mantissa = UInt32(h & 0x3FF)
    if exponent == 0x1F {                         // inf / NaN
        return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
    }
    if exponent != 0 {                            // normal: rebias 15 → 127
        return Float(bitPattern: sign | ((exponent + 112) << 23) | (mantissa << 13))
    }
    // zero or subnormal: value = mantissa · 2^-24, exact in float arithmetic
    let magnitude = Float(mantissa) * 0x1p-24
    return Float(bitPattern: sign | magnitude.bitPattern)
}

extension Model {
    /// Values of a constant INT32 tensor (e.g. PAD paddings `[rank, 2]`, RESHAPE shape), row-major;
    /// nil when the tensor has no data (a runtime tensor).
    /// - Throws: `TFLiteError` when the tensor is not INT32, the index is out of range, or the data size
    ///   does not match the shape.
    public func constantInt32(tensor index: Int, subgraph: Int = 0) throws -> [Int32]? {
        guard subgraph >= 0, subgraph < subgraphs.count, index >= 0, index < subgraphs[subgraph].tensors.count else {
            throw TFLiteError.invalidModel(what: "tensor \(index) of subgraph \(subgraph) does not exist", location: "")
        }
        let tensor = subgraphs[subgraph].tensors[index]
        let location = "subgraph \(subgraph), tensor \(index)"
        guard tensor.type == .int32 else {
            throw TFLiteError.invalidModel(what: "expected an INT32 constant, found \(tensor.type)", location: location)
        }
        let data = try bufferData(tensor.buffer)
        guard !data.isEmpty else { return nil }
        guard let count = tensor.elementCount, data.count == 4 * count else {
            throw TFLiteError.invalidModel(what: "INT32 constant of shape \(tensor.shape) has \(data.count) bytes of data", location: location)
        }
        return (0..<count).map { Int32(littleEndian: data.loadUnaligned(fromByteOffset: 4 * $0, as: Int32.self)) }
    }
}
