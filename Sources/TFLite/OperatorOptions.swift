/// The options of one operator as the file stores them: the `builtin_options` union (type code and
/// table) and the `custom_options` bytes.
///
/// The reader locates the options table and checks its vtable and object range at load, like every
/// other table. Its *fields* are decoded by the runtime operator that knows their schema
/// (`tensorflow/lite/schema/schema.fbs`), through the same bounds- and alignment-checked reads as the
/// rest of the reader: a field outside its table object or a vector outside the file throws
/// `TFLiteError.malformed` with the byte offset and the operator's location.
public struct OperatorOptions: @unchecked Sendable {
    /// `tflite::BuiltinOptions` union type code (its 1-based position in the union; 0 = no options).
    public let unionType: UInt8
    /// The `custom_options` bytes (empty when absent), pointing into the model's storage.
    public let customBytes: UnsafeRawBufferPointer
    /// The options table, when the file stores one.
    let table: FlatBufferReader.Table?
    /// Keeps the file bytes alive for `customBytes` and on-demand field reads.
    let storage: ModelStorage?
    /// Where the operator is (subgraph, operator index), for errors; rendered only when one is thrown.
    let location: FlatBufferReader.Location

    /// No options at all (for operators built in memory).
    public static let none = OperatorOptions(unionType: 0, customBytes: UnsafeRawBufferPointer(start: nil, count: 0),
                                             table: nil, storage: nil, location: FlatBufferReader.Location())

    init(unionType: UInt8, customBytes: UnsafeRawBufferPointer, table: FlatBufferReader.Table?,
         storage: ModelStorage?, location: FlatBufferReader.Location) {
        self.unionType = unionType
        self.customBytes = customBytes
        self.table = table
        self.storage = storage
        self.location = location
    }

    /// Whether the file stores an options table (of any type).
    public var hasTable: Bool { table != nil }

    private func reader() -> FlatBufferReader? {
        guard let storage else { return nil }
        let reader = FlatBufferReader(bytes: storage.bytes)
        reader.location = location
        return reader
    }

    /// Scalar field `id` of the options table, or `defaultValue` when the field (or the table) is absent.
    public func scalar<T: FixedWidthInteger>(_ id: Int, _ name: String, default defaultValue: T) throws -> T {
        guard let table, let reader = reader() else { return defaultValue }
        return try reader.scalar(table, id, name, default: defaultValue)
    }

    /// An `int` (32-bit) field widened to `Int`.
    public func int(_ id: Int, _ name: String, default defaultValue: Int32 = 0) throws -> Int {
        Int(try scalar(id, name, default: defaultValue))
    }

    /// A `bool` field.
    public func bool(_ id: Int, _ name: String, default defaultValue: Bool = false) throws -> Bool {
        try scalar(id, name, default: UInt8(defaultValue ? 1 : 0)) != 0
    }

    /// A `float` field.
    public func float(_ id: Int, _ name: String, default defaultValue: Float = 0) throws -> Float {
        Float(bitPattern: try scalar(id, name, default: defaultValue.bitPattern))
    }

    /// An `[int]` field widened to `Int`, nil when absent.
    public func intVector(_ id: Int, _ name: String) throws -> [Int]? {
        guard let table, let reader = reader() else { return nil }
        return try reader.intVectorField(table, id, name)
    }

    /// Absolute byte offset of scalar field `id` in the file (nil when absent), for error messages and
    /// for tools that patch a field in a copy of the file.
    public func byteOffset(ofField id: Int, size: Int) throws -> Int? {
        guard let table, let reader = reader() else { return nil }
        return try reader.field(table, id, size: size, "field \(id)")
    }
}
