import CBlazeTarget

// Load-time resolution of constant tensors to float32: plain FLOAT32 buffers, DENSIFY of sparse
// constants and DEQUANTIZE of constant FLOAT16 / INT8 / UINT8 tensors (including DENSIFY → DEQUANTIZE
// chains), as LiteRT computes them.
//
// Two steps, so that a runtime can widen one tensor at a time straight before it prepacks it (and
// drop the float32 copy right after) instead of holding every constant as float32 at once:
// ``Model/constantTable(subgraph:)`` finds every constant float tensor and makes every check that
// needs no pass over the values; ``Model/constantValues(_:in:)`` computes one tensor's values.
// ``Model/resolveConstants(subgraph:)`` does both for every tensor.
extension Model {
    /// Float32 values (row-major over `tensor.shape`) of every constant float tensor of `subgraph`,
    /// keyed by tensor index: constant FLOAT32 buffers, outputs of DENSIFY with a constant sparse input
    /// (FLOAT32 or FLOAT16, widened exactly), and outputs of DEQUANTIZE whose input is constant or a
    /// resolved DENSIFY output. Tensors with the same ``ConstantTable.Source`` share one array.
    /// - Throws: `TFLiteError` naming the tensor/operator when a buffer has the wrong size, sparsity
    ///   metadata is inconsistent or an index read from it is out of range.
    public func resolveConstants(subgraph index: Int = 0) throws -> [Int: [Float]] {
        let table = try constantTable(subgraph: index)
        var bySource: [Int: [Float]] = [:]
        var resolved: [Int: [Float]] = [:]
        // In tensor order, so that the first bad tensor is the one reported.
        for t in table.sources.keys.sorted() {
            guard let source = table.sources[t] else { continue }
            if let known = bySource[source.tensor] {
                resolved[t] = known
            } else {
                let values = try constantValues(t, in: table)
                bySource[source.tensor] = values
                resolved[t] = values
            }
        }
        return resolved
    }

    /// Finds every constant float tensor of `subgraph` and checks it without widening any value:
    /// buffer sizes against shapes, element types, quantization parameters, sparsity metadata (all but
    /// the indices stored in it, which ``constantValues(_:in:)`` checks as it reads them) and that each
    /// DEQUANTIZE / DENSIFY output has as many elements as its input resolves to.
    /// - Throws: `TFLiteError` naming the tensor/operator (the same errors, in the same order, as
    ///   ``resolveConstants(subgraph:)`` before any value is read).
    public func constantTable(subgraph index: Int = 0) throws -> ConstantTable {
        guard index >= 0, index < subgraphs.count else {
            throw TFLiteError.invalidModel(what: "subgraph \(index) out of range 0..<\(subgraphs.count)", location: "")
        }
        let graph = subgraphs[index]
        var sources: [Int: ConstantTable.Source] = [:]
        for (t, tensor) in graph.tensors.enumerated() where tensor.type == .float32 && tensor.sparsity == nil {
            let data = try bufferData(tensor.buffer)
            guard !data.isEmpty else { continue }
            let count = try checkDense(tensor, data: data, location: "subgraph \(index), tensor \(t)")
            sources[t] = ConstantTable.Source(tensor: t, op: nil, count: count)
        }
        for (o, op) in graph.operators.enumerated() {
            let location = "subgraph \(index), operator \(o)"
            let code = opcode(of: op)
            guard code == .densify || code == .dequantize else { continue }
            guard op.inputs.count == 1, op.outputs.count == 1, op.inputs[0] >= 0 else {
                throw TFLiteError.invalidModel(what: "\(code) needs exactly 1 input and 1 output, has \(op.inputs.count) and \(op.outputs.count)", location: location)
            }
            let input = graph.tensors[op.inputs[0]], outputIndex = op.outputs[0], output = graph.tensors[outputIndex]
            let source: ConstantTable.Source
            if let known = sources[op.inputs[0]] {
                source = known
            } else {
                let data = try bufferData(input.buffer)
                guard !data.isEmpty else { continue }   // a runtime input, not a constant
                let inputLocation = "\(location), tensor \(op.inputs[0])"
                let count: Int
                if code == .densify {
                    guard let sparsity = input.sparsity else {
                        throw TFLiteError.invalidModel(what: "DENSIFY input tensor \(op.inputs[0]) has no sparsity parameters", location: location)
                    }
                    count = try DensifyPlan(input, sparsity: sparsity, data: data, maxElements: maxConstantElements,
                                            location: inputLocation).denseCount
                } else {
                    guard input.sparsity == nil else {
                        throw TFLiteError.unsupported(what: "DEQUANTIZE of a sparse tensor without DENSIFY", location: location)
                    }
                    count = try checkDense(input, data: data, location: inputLocation)
                }
                source = ConstantTable.Source(tensor: op.inputs[0], op: o, count: count)
            }
            guard let count = output.elementCount, count == source.count else {
                throw TFLiteError.invalidModel(what: "\(code) output tensor \(outputIndex) shape \(output.shape) does not hold \(source.count) values", location: location)
            }
            sources[outputIndex] = source
        }
        return ConstantTable(subgraph: index, sources: sources)
    }

    /// The source of constant tensor `t` of `table`: its table entry, the tensor holding the data, the
    /// location errors name, and the data bytes.
    private func constantSource(_ t: Int, in table: ConstantTable) throws
        -> (source: ConstantTable.Source, tensor: Tensor, location: String, data: UnsafeRawBufferPointer) {
        guard let source = table.sources[t], table.subgraph >= 0, table.subgraph < subgraphs.count,
              source.tensor >= 0, source.tensor < subgraphs[table.subgraph].tensors.count else {
            throw TFLiteError.invalidModel(what: "tensor \(t) is not a constant float tensor", location: "subgraph \(table.subgraph)")
        }
        let tensor = subgraphs[table.subgraph].tensors[source.tensor]
        let location = source.op.map { "subgraph \(table.subgraph), operator \($0), tensor \(source.tensor)" }
            ?? "subgraph \(table.subgraph), tensor \(source.tensor)"
        return (source, tensor, location, try bufferData(tensor.buffer))
    }

    /// The float32 values (row-major) of constant tensor `t` of `table`, computed from its source:
    /// copied, widened from FLOAT16, dequantized or densified.
    /// - Throws: `TFLiteError.invalidModel` when `t` is not in the table, or naming the tensor and
    ///   operator when a sparse index is out of range.
    public func constantValues(_ t: Int, in table: ConstantTable) throws -> [Float] {
        let (_, tensor, location, data) = try constantSource(t, in: table)
        if let sparsity = tensor.sparsity {
            let plan = try DensifyPlan(tensor, sparsity: sparsity, data: data, maxElements: maxConstantElements, location: location)
            return try plan.densify(data)
        }
        return try denseValues(of: tensor, data: data, location: location)
    }

    /// The values of constant tensor `t` of `table` as `rowCount` rows of equal length, read on
    /// demand instead of widened all at once: ``ConstantRows/read(first:count:into:)`` writes the
    /// same floats as ``constantValues(_:in:)`` (row-major) for any range of rows. Every check that
    /// `constantValues` makes happens here (the same errors, sparse indices included), so reading
    /// cannot fail. Float32 data at a 4-byte-aligned offset is read in place
    /// (``ConstantRows/values``). The rows point into this model's storage: read them while the
    /// model is alive and its buffer data not released.
    /// - Throws: as ``constantValues(_:in:)``; `TFLiteError.invalidModel` when the tensor's values
    ///   do not split into `rowCount` rows.
    public func constantRows(_ t: Int, in table: ConstantTable, rowCount: Int) throws -> ConstantRows {
        let (source, tensor, location, data) = try constantSource(t, in: table)
        let total = source.count
        guard rowCount > 0, total % rowCount == 0 else {
            throw TFLiteError.invalidModel(what: "constant tensor \(t) of \(total) values does not split into \(rowCount) rows", location: location)
        }
        let rowLength = total / rowCount
        if let sparsity = tensor.sparsity {
            let plan = try DensifyPlan(tensor, sparsity: sparsity, data: data, maxElements: maxConstantElements, location: location)
            try plan.validate(data)
            if plan.readsRowsDirectly {
                return ConstantRows(count: rowCount, length: rowLength, values: nil) { first, count, into in
                    plan.densifyRows(data, first: first, count: count, rowLength: rowLength, into: into)
                }
            }
            let dense = try plan.densify(data)
            return ConstantRows(count: rowCount, length: rowLength, values: nil) { first, count, into in
                dense.withUnsafeBufferPointer { if let b = $0.baseAddress { into.update(from: b + first * rowLength, count: count * rowLength) } }
            }
        }
        _ = try checkDense(tensor, data: data, location: location)
        guard let base = data.baseAddress, total > 0 else {
            return ConstantRows(count: rowCount, length: rowLength, values: nil) { _, _, _ in }
        }
        switch tensor.type {
        case .float32:
            #if _endian(little)
            if Int(bitPattern: base) % MemoryLayout<Float>.alignment == 0 {
                return ConstantRows(count: rowCount, length: rowLength, values: base.assumingMemoryBound(to: Float.self)) { first, count, into in
                    into.update(from: base.assumingMemoryBound(to: Float.self) + first * rowLength, count: count * rowLength)
                }
            }
            #endif
            return ConstantRows(count: rowCount, length: rowLength, values: nil) { first, count, into in
                copyLittleEndianFloats(from: base + 4 * first * rowLength, to: into, count: count * rowLength)
            }
        case .float16:
            #if _endian(little)
            let halves: UnsafeRawPointer? = base
            #else
            let halves: UnsafeRawPointer? = nil
            #endif
            return ConstantRows(count: rowCount, length: rowLength, values: nil, halves: halves) { first, count, into in
                widenHalves(from: base + 2 * first * rowLength, to: into, count: count * rowLength)
            }
        default:
            // INT8/UINT8: dequantized once (small in practice), then copied out by rows.
            let values = try denseValues(of: tensor, data: data, location: location)
            return ConstantRows(count: rowCount, length: rowLength, values: nil) { first, count, into in
                values.withUnsafeBufferPointer { if let b = $0.baseAddress { into.update(from: b + first * rowLength, count: count * rowLength) } }
            }
        }
    }

    /// The stored entries of sparse constant tensor `t` of `table` by rows along dim 0, read
    /// straight from the file's CSR without a dense copy (``SparseConstantRows``), when it is stored
    /// sparse in the common layout (dense levels in dim order, then one CSR level over the last dim,
    /// strictly increasing indices) with `rowCount` rows; nil for any other tensor. Makes the checks
    /// of ``constantRows(_:in:rowCount:)`` (the same errors), so reading cannot fail. The rows point
    /// into this model's storage: read them while the model is alive and its buffer data not released.
    /// - Throws: as ``constantRows(_:in:rowCount:)``.
    public func constantSparseRows(_ t: Int, in table: ConstantTable, rowCount: Int) throws -> SparseConstantRows? {
        let (source, tensor, location, data) = try constantSource(t, in: table)
        guard let sparsity = tensor.sparsity else { return nil }
        guard rowCount > 0, source.count % rowCount == 0 else {
            throw TFLiteError.invalidModel(what: "constant tensor \(t) of \(source.count) values does not split into \(rowCount) rows", location: location)
        }
        let plan = try DensifyPlan(tensor, sparsity: sparsity, data: data, maxElements: maxConstantElements, location: location)
        let starts = try plan.validate(data)
        return plan.sparseRows(data, rowCount: rowCount, starts: starts)
    }

    /// Largest dense tensor we will materialise: bounds memory for hostile shapes.
    var maxConstantElements: Int { max(1 << 20, min(1 << 26, 64 * storage.bytes.count)) }

    /// Checks a dense constant stored as FLOAT32, FLOAT16, or affine-quantized INT8/UINT8 (size, type,
    /// quantization parameters) and returns its element count.
    func checkDense(_ tensor: Tensor, data: UnsafeRawBufferPointer, location: String) throws -> Int {
        guard let count = tensor.elementCount, count <= maxConstantElements else {
            throw TFLiteError.invalidModel(what: "constant tensor shape \(tensor.shape) is too large", location: location)
        }
        guard let size = tensor.type.byteSize, data.count == count * size else {
            throw TFLiteError.invalidModel(what: "constant \(tensor.type) tensor of shape \(tensor.shape) has \(data.count) bytes of data", location: location)
        }
        switch tensor.type {
        case .float32, .float16:
            return count
        case .int8, .uint8:
            _ = try quantizationAxis(tensor, count: count, location: location)
            return count
        default:
            throw TFLiteError.unsupported(what: "constant of type \(tensor.type) cannot be resolved to float32", location: location)
        }
    }

    /// Float32 values of a dense constant stored as FLOAT32, FLOAT16, or affine-quantized INT8/UINT8.
    func denseValues(of tensor: Tensor, data: UnsafeRawBufferPointer, location: String) throws -> [Float] {
        let count = try checkDense(tensor, data: data, location: location)
        switch tensor.type {
        case .float32:
            return [Float](unsafeUninitializedCapacity: count) { out, initialized in
                if let base = out.baseAddress, let source = data.baseAddress { copyLittleEndianFloats(from: source, to: base, count: count) }
                initialized = count
            }
        case .float16:
            return [Float](unsafeUninitializedCapacity: count) { out, initialized in
                if let base = out.baseAddress, let source = data.baseAddress { widenHalves(from: source, to: base, count: count) }
                initialized = count
            }
        default:
            let signed = tensor.type == .int8
            return try dequantize(tensor, count: count, location: location) { i in signed ? Int(Int8(bitPattern: data[i])) : Int(data[i]) }
        }
    }

    /// Checks the quantization parameters of an INT8/UINT8 constant of `count` elements; returns
    /// nil for per-tensor parameters, else `(axis, inner)`: the quantized dimension and the product of
    /// the dimensions after it.
    private func quantizationAxis(_ tensor: Tensor, count: Int, location: String) throws -> (axis: Int, inner: Int)? {
        guard let quant = tensor.quantization, !quant.scale.isEmpty, quant.zeroPoint.count == quant.scale.count else {
            throw TFLiteError.invalidModel(what: "quantized constant has no consistent scale/zero_point", location: location)
        }
        guard count > 0, quant.scale.count != 1 else { return nil }
        let axis = quant.quantizedDimension
        guard axis >= 0, axis < tensor.shape.count, tensor.shape[axis] == quant.scale.count else {
            throw TFLiteError.invalidModel(what: "per-channel quantization axis \(axis) does not match shape \(tensor.shape) with \(quant.scale.count) scales", location: location)
        }
        return (axis, tensor.shape[(axis + 1)...].reduce(1, *))
    }

    /// `scale * (q - zeroPoint)` per tensor or along `quantizedDimension` (as TFLite's reference DEQUANTIZE).
    private func dequantize(_ tensor: Tensor, count: Int, location: String, _ q: (Int) -> Int) throws -> [Float] {
        let perChannel = try quantizationAxis(tensor, count: count, location: location)
        guard count > 0, let quant = tensor.quantization else { return [] }
        guard let (axis, inner) = perChannel else {
            let scale = quant.scale[0], zero = Int(truncatingIfNeeded: quant.zeroPoint[0])
            return (0..<count).map { scale * Float(q($0) - zero) }
        }
        let channels = tensor.shape[axis]
        return (0..<count).map { i in
            let c = (i / inner) % channels
            return quant.scale[c] * Float(q(i) - Int(truncatingIfNeeded: quant.zeroPoint[c]))
        }
    }
}

/// A constant float tensor as rows of equal length (``Model/constantRows(_:in:rowCount:)``).
public struct ConstantRows: @unchecked Sendable {
    /// Rows (the tensor's first dimension for a conv's OHWI weights).
    public let count: Int
    /// Floats per row.
    public let length: Int
    /// The values themselves, `[count][length]` float32 in the model's storage, when they can be
    /// read in place; nil when they are widened, dequantized or densified by ``read(first:count:into:)``.
    public let values: UnsafePointer<Float>?
    /// The binary16 values themselves, `[count][length]` little-endian halves in the model's
    /// storage (any alignment), for a dense FLOAT16 tensor on a little-endian host; nil otherwise.
    /// ``read(first:count:into:)`` writes them widened.
    public let halves: UnsafeRawPointer?
    private let reader: (_ first: Int, _ count: Int, _ into: UnsafeMutablePointer<Float>) -> Void

    init(count: Int, length: Int, values: UnsafePointer<Float>?, halves: UnsafeRawPointer? = nil,
         reader: @escaping (Int, Int, UnsafeMutablePointer<Float>) -> Void) {
        self.count = count; self.length = length; self.values = values; self.halves = halves; self.reader = reader
    }

    /// Writes rows `first ..< first + rows` (inside `0..<count`) as `[rows][length]` floats at `into`.
    /// Safe to call from several threads at once for disjoint rows.
    public func read(first: Int, count rows: Int, into: UnsafeMutablePointer<Float>) {
        guard rows > 0 else { return }
        reader(first, rows, into)
    }
}

/// Widens `count` IEEE binary16 values (little-endian, any alignment) at `source` to binary32 at
/// `destination`, exactly as ``halfToFloat(_:)`` (same bits for every input, NaN payloads included).
///
/// CBlazeTarget's `blaze_widen_halves`: with F16C (the fast build) 8 values per `vcvtph2ps`, with
/// any block that holds a NaN (which `vcvtph2ps` would quiet) widened by the exact scalar code; without
/// F16C the branch-free scalar code alone, which the compiler vectorises (SSE2). Not
/// `Float(Float16)`: without F16C that is a library call per element.
public func widenHalves(from source: UnsafeRawPointer, to destination: UnsafeMutablePointer<Float>, count: Int) {
    guard count > 0 else { return }
    blaze_widen_halves(source, destination, count)
}

/// Copies `count` little-endian binary32 values (any alignment) from `source` to `destination`.
func copyLittleEndianFloats(from source: UnsafeRawPointer, to destination: UnsafeMutablePointer<Float>, count: Int) {
    #if _endian(little)
    UnsafeMutableRawPointer(destination).copyMemory(from: source, byteCount: 4 * count)
    #else
    for i in 0..<count { destination[i] = Float(bitPattern: UInt32(littleEndian: source.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))) }
    #endif
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
