import Foundation

/// Element type of a tensor (`tflite::TensorType`, an `int8` enum).
public enum TensorType: Int8, Sendable, CaseIterable, CustomStringConvertible {
    case float32 = 0, float16, int32, uint8, int64, string, bool, int16, complex64, int8, float64,
         complex128, uint64, resource, variant, uint32, uint16, int4, bfloat16

    /// Bytes per element; nil for types without a fixed size (string, resource, variant) or
    /// sub-byte packing (int4).
    public var byteSize: Int? {
        switch self {
        case .bool, .uint8, .int8: return 1
        case .float16, .int16, .uint16, .bfloat16: return 2
        case .float32, .int32, .uint32: return 4
        case .int64, .uint64, .float64, .complex64: return 8
        case .complex128: return 16
        case .string, .resource, .variant, .int4: return nil
        }
    }

    /// TFLite's spelling, e.g. `FLOAT32`.
    public var description: String {
        switch self {
        case .float32: return "FLOAT32"
        case .float16: return "FLOAT16"
        case .int32: return "INT32"
        case .uint8: return "UINT8"
        case .int64: return "INT64"
        case .string: return "STRING"
        case .bool: return "BOOL"
        case .int16: return "INT16"
        case .complex64: return "COMPLEX64"
        case .int8: return "INT8"
        case .float64: return "FLOAT64"
        case .complex128: return "COMPLEX128"
        case .uint64: return "UINT64"
        case .resource: return "RESOURCE"
        case .variant: return "VARIANT"
        case .uint32: return "UINT32"
        case .uint16: return "UINT16"
        case .int4: return "INT4"
        case .bfloat16: return "BFLOAT16"
        }
    }
}

/// Affine quantization (`f = scale * (q - zeroPoint)`), per tensor or per `quantizedDimension`.
public struct Quantization: Sendable, Equatable {
    public var min: [Float]
    public var max: [Float]
    public var scale: [Float]
    public var zeroPoint: [Int64]
    public var quantizedDimension: Int
}

/// Storage format of one level of a sparse tensor.
public enum DimensionFormat: Sendable, Equatable {
    /// Every coordinate is stored implicitly; the level has `denseSize` entries per parent.
    case dense(denseSize: Int)
    /// CSR compression: `segments[p]..<segments[p+1]` index into `indices`, which hold coordinates.
    case sparseCSR(segments: SparseIndices, indices: SparseIndices)
}

/// TFLite sparsity parameters (a TACO-like format); index vectors at their stored width, read as `Int`.
public struct Sparsity: Sendable, Equatable {
    /// Permutation of the `n` tensor dims followed by the `k` block dims (length `n + k`).
    public var traversalOrder: [Int]
    /// For each block dim `n + i`, the tensor dim it subdivides (length `k`).
    public var blockMap: [Int]
    /// One entry per traversal level (length `n + k`), in traversal order.
    public var dimensionMetadata: [DimensionFormat]
}

/// One tensor of a subgraph.
public struct Tensor: Sendable {
    public var name: String
    /// Dimensions, NHWC for activations and OHWI (`[out, kH, kW, in]`) for conv filters; for sparse
    /// tensors this is the *dense* shape.
    public var shape: [Int]
    /// Shape with `-1` for dynamic dimensions, when the converter recorded one.
    public var shapeSignature: [Int]?
    public var type: TensorType
    /// Index into `Model.buffers`; buffer 0 is the empty sentinel (non-constant tensor).
    public var buffer: Int
    public var quantization: Quantization?
    public var sparsity: Sparsity?
    public var isVariable: Bool

    /// Number of elements (product of `shape`, 1 for a scalar); nil if a dimension is negative or the product overflows.
    public var elementCount: Int? {
        var product = 1
        for dim in shape {
            guard dim >= 0 else { return nil }
            let (next, overflow) = product.multipliedReportingOverflow(by: dim)
            if overflow { return nil }
            product = next
        }
        return product
    }
}

/// One operator (node) of a subgraph.
public struct Operator: Sendable {
    /// Index into `Model.operatorCodes`.
    public var opcodeIndex: Int
    /// Tensor indices; `-1` marks an absent optional input.
    public var inputs: [Int]
    public var outputs: [Int]
    /// The builtin options table and custom options, decoded by the operator that owns them.
    public var options: OperatorOptions
}

/// A graph: tensors, operators in execution order, and its inputs/outputs (tensor indices).
public struct Subgraph: Sendable {
    public var name: String?
    public var tensors: [Tensor]
    public var inputs: [Int]
    public var outputs: [Int]
    public var operators: [Operator]
}

/// An operator code: builtin code (resolved from `builtin_code` / `deprecated_builtin_code`), custom name, version.
public struct OperatorCode: Sendable {
    public var builtinCode: BuiltinOperator
    public var customCode: String?
    public var version: Int32
}

/// Where a buffer's bytes are, as file offsets into the model's storage (`count == 0` for empty buffers).
public struct Buffer: Sendable, Equatable {
    /// File offset of the first byte.
    public var offset: Int
    /// Number of bytes.
    public var count: Int
}

/// A named metadata entry pointing at a buffer.
public struct Metadata: Sendable {
    public var name: String?
    public var buffer: Int
}

/// A decoded, verified TFLite model. Cheap to copy; all copies share the underlying file storage.
public struct Model: @unchecked Sendable {
    public var version: UInt32
    public var description: String?
    public var operatorCodes: [OperatorCode]
    public var subgraphs: [Subgraph]
    public var buffers: [Buffer]
    public var metadata: [Metadata]
    /// The file bytes (memory-mapped or copied). Buffers point into it.
    public let storage: ModelStorage

    /// Reads the file, verifies it and decodes it.
    ///
    /// The file is opened without blocking and must be a regular file (a FIFO or a device is an
    /// error, not a hang); its 8-byte header is checked before the rest is read. Files up to
    /// ``ModelStorage/privateReadLimit`` are read into private memory, so a file truncated or
    /// rewritten while loading gives an error (or, after loading, has no effect) instead of SIGBUS;
    /// larger files are memory-mapped (see ``ModelStorage``).
    /// - Throws: `TFLiteError` describing what is wrong and where.
    public init(contentsOf url: URL) throws {
        try self.init(storage: try ModelStorage(contentsOfFile: url.path))
    }

    /// Decodes a model from bytes in memory (copied into aligned storage).
    public init(bytes: [UInt8]) throws {
        try self.init(storage: bytes.withUnsafeBytes { ModelStorage(copying: $0) })
    }

    /// Decodes a model from `Data` (copied into aligned storage).
    public init(data: Data) throws {
        try self.init(storage: data.withUnsafeBytes { ModelStorage(copying: $0) })
    }

    /// The bytes of buffer `index` (inline `data` or the `offset`/`size` form), pointing into `storage`.
    /// Valid as long as this `Model` (or a copy sharing its storage) is alive.
    public func bufferData(_ index: Int) throws -> UnsafeRawBufferPointer {
        guard index >= 0, index < buffers.count else {
            throw TFLiteError.invalidModel(what: "buffer index \(index) out of range 0..<\(buffers.count)", location: "")
        }
        let buffer = buffers[index]
        try storage.ensureResident(buffer.offset, buffer.count)
        return UnsafeRawBufferPointer(rebasing: storage.bytes[buffer.offset..<(buffer.offset + buffer.count)])
    }

    /// Hands the memory of the buffer data (the weights) back to the system, for a model read from
    /// a file into private memory (no effect on models decoded from bytes in memory or mapped):
    /// call it once the data has been consumed, e.g. prepacked by an interpreter, while no other
    /// thread reads this model. ``bufferData(_:)`` reads released pages back from the file (kept
    /// open) on first use, after checking that the file has not changed since it was loaded (size,
    /// modification time, inode); if it has, it throws ``TFLiteError/fileUnreadable(path:reason:)``.
    /// Pages that also hold FlatBuffers structure are kept, the sparse index vectors' among them
    /// (``Sparsity`` reads them in place).
    public func releaseBufferData() {
        storage.release(buffers.map { (offset: $0.offset, count: $0.count) })
    }

    /// ``releaseBufferData()`` for buffer `index` only (nothing for an index out of range).
    public func releaseBufferData(_ index: Int) {
        guard buffers.indices.contains(index) else { return }
        storage.release([(offset: buffers[index].offset, count: buffers[index].count)])
    }

    /// The operator code of `op`. The reader checked the index at load; for an `Operator` edited in
    /// memory with an index out of range this is the invalid code -1, which no runtime supports.
    public func opcode(of op: Operator) -> BuiltinOperator {
        operatorCodes.indices.contains(op.opcodeIndex) ? operatorCodes[op.opcodeIndex].builtinCode : BuiltinOperator(rawValue: -1)
    }

    /// The custom operator name of `op` (`nil` for builtin operators).
    public func customCode(of op: Operator) -> String? {
        operatorCodes.indices.contains(op.opcodeIndex) ? operatorCodes[op.opcodeIndex].customCode : nil
    }
}
