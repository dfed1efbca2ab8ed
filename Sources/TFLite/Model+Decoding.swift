/// Decoding of the `tflite::Model` tree (field ids from `tensorflow/lite/schema/schema.fbs`).
///
/// Decoding *is* the verification pass: it walks every table reachable from the root that this reader
/// understands, checking each offset/length/alignment before use (see `FlatBufferReader`), then checks
/// cross-references (buffer, opcode and tensor indices) before the `Model` is returned. Nothing is read
/// lazily afterwards except buffer bytes, whose ranges were verified here.
extension Model {
    init(storage: ModelStorage) throws {
        let reader = FlatBufferReader(bytes: storage.bytes, marking: storage)
        let root = try reader.root()
        // Model: version 0, operator_codes 1, subgraphs 2, description 3, buffers 4, metadata_buffer 5, metadata 6.
        let version: UInt32 = try reader.scalar(root, 0, "version", default: 0)
        let description = try reader.stringField(root, 3, "description")

        var operatorCodes: [OperatorCode] = []
        for (index, table) in try reader.tableVectorField(root, 1, "operator_codes").enumerated() {
            reader.location.operatorCode = index
            operatorCodes.append(try reader.nested { try reader.operatorCode(table) })
        }
        reader.location.operatorCode = nil

        var buffers: [Buffer] = []
        for (index, table) in try reader.tableVectorField(root, 4, "buffers").enumerated() {
            reader.location.buffer = index
            buffers.append(try reader.nested { try reader.buffer(table) })
        }
        reader.location.buffer = nil

        var subgraphs: [Subgraph] = []
        for (index, table) in try reader.tableVectorField(root, 2, "subgraphs").enumerated() {
            reader.location.subgraph = index
            subgraphs.append(try reader.nested { try reader.subgraph(table) })
        }
        reader.location.subgraph = nil

        var metadata: [Metadata] = []
        for table in try reader.tableVectorField(root, 6, "metadata") {
            // Metadata: name 0, buffer 1.
            metadata.append(try reader.nested {
                Metadata(name: try reader.stringField(table, 0, "metadata name"),
                         buffer: Int(try reader.scalar(table, 1, "metadata buffer", default: UInt32(0))))
            })
        }

        // Fields this reader does not use are still verified, so that "it loaded" means the whole
        // tree is well-formed: metadata_buffer 5 ([int]) and signature_defs 7.
        _ = try reader.intVectorField(root, 5, "metadata_buffer")
        for table in try reader.tableVectorField(root, 7, "signature_defs") {
            try reader.nested { try reader.verifySignatureDef(table) }
        }

        self.version = version
        self.description = description
        self.operatorCodes = operatorCodes
        self.subgraphs = subgraphs
        self.buffers = buffers
        self.metadata = metadata
        self.storage = storage
        try validateReferences()
    }

    /// Checks every index stored in the model against the array it indexes.
    private func validateReferences() throws {
        guard !subgraphs.isEmpty else { throw TFLiteError.invalidModel(what: "model has no subgraphs", location: "") }
        for (m, entry) in metadata.enumerated() where entry.buffer >= buffers.count {
            throw TFLiteError.invalidModel(what: "metadata \(m) refers to buffer \(entry.buffer), but there are \(buffers.count) buffers", location: "")
        }
        for (s, subgraph) in subgraphs.enumerated() {
            let tensorCount = subgraph.tensors.count
            for (t, tensor) in subgraph.tensors.enumerated() where tensor.buffer >= buffers.count {
                throw TFLiteError.invalidModel(what: "refers to buffer \(tensor.buffer), but there are \(buffers.count) buffers",
                                               location: "subgraph \(s), tensor \(t)")
            }
            for (kind, list) in [("input", subgraph.inputs), ("output", subgraph.outputs)] {
                for index in list where index < 0 || index >= tensorCount {
                    throw TFLiteError.invalidModel(what: "subgraph \(kind) tensor index \(index) out of range 0..<\(tensorCount)", location: "subgraph \(s)")
                }
            }
            for (o, op) in subgraph.operators.enumerated() {
                let location = "subgraph \(s), operator \(o)"
                guard op.opcodeIndex < operatorCodes.count else {
                    throw TFLiteError.invalidModel(what: "opcode index \(op.opcodeIndex) out of range 0..<\(operatorCodes.count)", location: location)
                }
                for index in op.inputs where index < -1 || index >= tensorCount {
                    throw TFLiteError.invalidModel(what: "input tensor index \(index) out of range -1..<\(tensorCount)", location: location)
                }
                for index in op.outputs where index < 0 || index >= tensorCount {
                    throw TFLiteError.invalidModel(what: "output tensor index \(index) out of range 0..<\(tensorCount)", location: location)
                }
            }
        }
    }
}

extension FlatBufferReader {
    /// OperatorCode: deprecated_builtin_code 0 (int8), custom_code 1, version 2 (default 1), builtin_code 3 (int32).
    func operatorCode(_ table: Table) throws -> OperatorCode {
        let deprecated: Int8 = try scalar(table, 0, "deprecated_builtin_code", default: 0)
        let extended: Int32 = try scalar(table, 3, "builtin_code", default: 0)
        // As TFLite's GetBuiltinCode: old writers only fill the int8 field (which saturates at 127,
        // PLACEHOLDER_FOR_GREATER_OP_CODES), new ones fill both; the larger of the two is the code.
        let code = max(Int32(deprecated), extended)
        return OperatorCode(builtinCode: BuiltinOperator(code),
                            customCode: try stringField(table, 1, "custom_code"),
                            version: try scalar(table, 2, "version", default: 1))
    }

    /// Buffer: data 0 ([ubyte]), offset 1 (u64), size 2 (u64). The offset form is used when offset > 1.
    func buffer(_ table: Table) throws -> Buffer {
        if let data = try vectorField(table, 0, elementSize: 1, "buffer data", isBufferData: true) {
            return Buffer(offset: data.start, count: data.count)
        }
        let offset: UInt64 = try scalar(table, 1, "buffer offset", default: 0)
        let size: UInt64 = try scalar(table, 2, "buffer size", default: 0)
        guard offset > 1 else { return Buffer(offset: 0, count: 0) }
        guard offset <= UInt64(count), size <= UInt64(count) - offset else {
            throw malformed("buffer data (offset \(offset), size \(size)) lies outside the file of \(count) bytes", at: table.position)
        }
        return Buffer(offset: Int(offset), count: Int(size))
    }

    /// SubGraph: tensors 0, inputs 1, outputs 2, operators 3, name 4.
    func subgraph(_ table: Table) throws -> Subgraph {
        var tensors: [Tensor] = []
        for (index, t) in try tableVectorField(table, 0, "tensors").enumerated() {
            location.tensor = index
            tensors.append(try nested { try tensor(t) })
        }
        location.tensor = nil
        var operators: [Operator] = []
        for (index, t) in try tableVectorField(table, 3, "operators").enumerated() {
            location.operator = index
            operators.append(try nested { try self.operator(t) })
        }
        location.operator = nil
        return Subgraph(name: try stringField(table, 4, "subgraph name"),
                        tensors: tensors,
                        inputs: try intVectorField(table, 1, "subgraph inputs") ?? [],
                        outputs: try intVectorField(table, 2, "subgraph outputs") ?? [],
                        operators: operators)
    }

    /// Tensor: shape 0, type 1, buffer 2, name 3, quantization 4, is_variable 5, sparsity 6, shape_signature 7.
    func tensor(_ table: Table) throws -> Tensor {
        let rawType: Int8 = try scalar(table, 1, "tensor type", default: 0)
        guard let type = TensorType(rawValue: rawType) else { throw invalid("unknown tensor type \(rawType)") }
        let shape = try intVectorField(table, 0, "tensor shape") ?? []
        if let bad = shape.first(where: { $0 < 0 }) { throw invalid("negative dimension \(bad) in shape \(shape)") }
        let quantization = try tableField(table, 4, "quantization").map { q in try nested { try quantizationParameters(q) } }
        let sparsity = try tableField(table, 6, "sparsity").map { s in try nested { try sparsityParameters(s) } }
        return Tensor(name: try stringField(table, 3, "tensor name") ?? "",
                      shape: shape,
                      shapeSignature: try intVectorField(table, 7, "shape_signature"),
                      type: type,
                      buffer: Int(try scalar(table, 2, "tensor buffer", default: UInt32(0))),
                      quantization: quantization,
                      sparsity: sparsity,
                      isVariable: try bool(table, 5, "is_variable"))
    }

    /// QuantizationParameters: min 0, max 1, scale 2, zero_point 3 ([long]), details 4/5 (ignored), quantized_dimension 6.
    func quantizationParameters(_ table: Table) throws -> Quantization {
        Quantization(min: try floatVectorField(table, 0, "quantization min") ?? [],
                     max: try floatVectorField(table, 1, "quantization max") ?? [],
                     scale: try floatVectorField(table, 2, "quantization scale") ?? [],
                     zeroPoint: try int64VectorField(table, 3, "quantization zero_point") ?? [],
                     quantizedDimension: Int(try scalar(table, 6, "quantized_dimension", default: Int32(0))))
    }

    /// SparsityParameters: traversal_order 0, block_map 1, dim_metadata 2.
    func sparsityParameters(_ table: Table) throws -> Sparsity {
        var levels: [DimensionFormat] = []
        for level in try tableVectorField(table, 2, "dim_metadata") {
            levels.append(try nested { try dimensionMetadata(level) })
        }
        return Sparsity(traversalOrder: try intVectorField(table, 0, "traversal_order") ?? [],
                        blockMap: try intVectorField(table, 1, "block_map") ?? [],
                        dimensionMetadata: levels)
    }

    /// DimensionMetadata: format 0, dense_size 1, array_segments_type 2, array_segments 3,
    /// array_indices_type 4, array_indices 5.
    func dimensionMetadata(_ table: Table) throws -> DimensionFormat {
        let format: Int8 = try scalar(table, 0, "dimension format", default: 0)
        switch format {
        case 0:
            let size = Int(try scalar(table, 1, "dense_size", default: Int32(0)))
            guard size >= 0 else { throw invalid("negative dense_size \(size)") }
            return .dense(denseSize: size)
        case 1:
            return .sparseCSR(segments: try sparseIndexVector(table, typeField: 2, "array_segments"),
                              indices: try sparseIndexVector(table, typeField: 4, "array_indices"))
        default:
            throw invalid("unknown sparse dimension format \(format)")
        }
    }

    /// A `SparseIndexVector` union: Int32Vector 1, Uint16Vector 2, Uint8Vector 3; each is a table whose
    /// field 0 is `values`. Kept at its stored width (``SparseIndices``) and, when decoding a model's
    /// storage, read in place there: the vector is marked as structure, so
    /// ``Model/releaseBufferData()`` keeps its pages (as much memory as a copy, without the copy).
    func sparseIndexVector(_ table: Table, typeField: Int, _ what: @autoclosure () -> String) throws -> SparseIndices {
        let type: UInt8 = try scalar(table, typeField, "\(what()) type", default: 0)
        guard let holder = try tableField(table, typeField + 1, what()) else {
            throw invalid("sparse dimension has no \(what())")
        }
        return try nested {
            let width: Int
            switch type {
            case 1: width = 4
            case 2: width = 2
            case 3: width = 1
            default: throw invalid("unknown \(what()) index vector type \(type)")
            }
            guard let v = try vectorField(holder, 0, elementSize: width, what()) else { return [] }
            return try indices(v, what())
        }
    }

    /// SignatureDef (verified, not kept): inputs 0 / outputs 1 ([TensorMap{name 0, tensor_index 1}]),
    /// signature_key 2, deprecated_tag 3, subgraph_index 4.
    func verifySignatureDef(_ table: Table) throws {
        for id in [0, 1] {
            for map in try tableVectorField(table, id, id == 0 ? "signature inputs" : "signature outputs") {
                try nested {
                    _ = try stringField(map, 0, "signature tensor name")
                    _ = try scalar(map, 1, "signature tensor_index", default: UInt32(0))
                }
            }
        }
        _ = try stringField(table, 2, "signature_key")
        _ = try scalar(table, 4, "signature subgraph_index", default: UInt32(0))
    }

    /// Operator: opcode_index 0, inputs 1, outputs 2, builtin_options_type 3, builtin_options 4,
    /// custom_options 5 ([ubyte]); mutating_variable_inputs 7 ([bool]) and intermediates 8 ([int])
    /// are verified but not kept. The options table is located and vtable-checked here; its fields
    /// are decoded by the runtime operator that knows their schema (`OperatorOptions`).
    func `operator`(_ table: Table) throws -> Operator {
        let custom = try vectorField(table, 5, elementSize: 1, "custom_options")
        _ = try vectorField(table, 7, elementSize: 1, "mutating_variable_inputs")
        _ = try intVectorField(table, 8, "intermediates")
        let unionType: UInt8 = try scalar(table, 3, "builtin_options_type", default: 0)
        // A type without a table, or a table without a type: TFLite treats the options as absent.
        let optionsTable = unionType == 0 ? nil : try nested { try tableField(table, 4, "builtin_options") }
        let customBytes = custom.map { UnsafeRawBufferPointer(rebasing: bytes[$0.start..<($0.start + $0.count)]) }
            ?? UnsafeRawBufferPointer(start: nil, count: 0)
        return Operator(opcodeIndex: Int(try scalar(table, 0, "opcode_index", default: UInt32(0))),
                 inputs: try intVectorField(table, 1, "operator inputs") ?? [],
                 outputs: try intVectorField(table, 2, "operator outputs") ?? [],
                 options: OperatorOptions(unionType: optionsTable == nil ? 0 : unionType, customBytes: customBytes,
                                          table: optionsTable, storage: storage, location: location))
    }
}
