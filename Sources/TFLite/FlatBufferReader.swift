/// Bounds-checked access to the FlatBuffers binary format, written from the format description
/// (little-endian; root `uoffset` at byte 0; file identifier at bytes 4..<8; a table starts with an
/// `soffset` to its vtable; a vtable is `[vtableSize: u16, objectSize: u16, fieldOffset: u16...]`;
/// vectors and strings start with a `u32` length; strings end with a NUL byte; unions are a `u8` type
/// field followed by a `uoffset` field).
///
/// Every read is checked before it happens: range (inside the file), alignment (4 for tables, uoffsets,
/// lengths and vectors of offsets; element size for scalar vectors), vtable sanity, field-inside-object,
/// string NUL terminator. Structural limits stop cyclic or overlapping-table blow-ups: nesting depth,
/// total tables visited and total vector elements read are all capped.
///
/// Arithmetic: all positions are `Int` (64-bit). Inputs are `u32`/`i32`/`u16` values added to positions
/// that are themselves below the file size (< 2^62), so sums and products (`count * elementSize`, with
/// `count < 2^32` and `elementSize <= 8`) cannot overflow; every result is then range-checked.
final class FlatBufferReader {
    /// A table located and vtable-checked.
    struct Table {
        /// File offset of the table (its `soffset` to the vtable).
        let position: Int
        /// File offset of its vtable.
        let vtable: Int
        /// Size of the vtable in bytes (>= 4, even).
        let vtableSize: Int
        /// Size of the table's inline object in bytes (>= 4), counted from `position`.
        let objectSize: Int
    }

    /// A vector located and range-checked: `count` elements of `elementSize` bytes starting at `start`.
    struct Vector {
        let start: Int
        let count: Int
        let elementSize: Int
    }

    /// Where in the model we are, for error messages.
    struct Location: CustomStringConvertible {
        var subgraph: Int?
        var tensor: Int?
        var `operator`: Int?
        var buffer: Int?
        var operatorCode: Int?
        /// A location rendered elsewhere (e.g. "subgraph 0, operator 3" for options read after load).
        var text: String?
        var description: String {
            if let text { return text }
            var parts: [String] = []
            if let operatorCode { parts.append("operator code \(operatorCode)") }
            if let subgraph { parts.append("subgraph \(subgraph)") }
            if let tensor { parts.append("tensor \(tensor)") }
            if let `operator` { parts.append("operator \(`operator`)") }
            if let buffer { parts.append("buffer \(buffer)") }
            return parts.joined(separator: ", ")
        }
    }

    static let maxDepth = 64
    static let maxTables = 1_000_000

    let bytes: UnsafeRawBufferPointer
    /// The storage `bytes` belong to, when decoding a `Model` (kept by values that read it later).
    let storage: ModelStorage?
    var count: Int { bytes.count }
    var location = Location()
    /// The reader's counters and flags, in memory of its own: they change for every table and
    /// vector, and as stored `var`s of this class each change paid a dynamic exclusivity check.
    private struct State {
        /// While decoding a `Model`: every checked range except buffer data is marked as structure in
        /// `storage` (pages that ``Model/releaseBufferData()`` must keep).
        var marksStructure: Bool
        var depth = 0
        var tablesVisited = 0
        /// Remaining vector elements we are willing to read; proportional to the file size so that a
        /// vector of offsets all pointing at the same large table cannot make decoding quadratic.
        var elementBudget: Int
    }
    private let state: UnsafeMutablePointer<State>

    /// A reader of `bytes`; with `storage` (the model being decoded, whose `bytes` these are) it
    /// marks the structure it checks (see ``ModelStorage``).
    init(bytes: UnsafeRawBufferPointer, marking storage: ModelStorage? = nil) {
        self.bytes = bytes
        self.storage = storage
        state = .allocate(capacity: 1)
        state.initialize(to: State(marksStructure: storage != nil, elementBudget: 4 * bytes.count + 1_000_000))
    }

    deinit {
        state.deinitialize(count: 1)
        state.deallocate()
    }

    // MARK: errors

    func malformed(_ what: @autoclosure () -> String, at offset: Int) -> TFLiteError {
        .malformed(what: what(), offset: offset, location: location.description)
    }

    func invalid(_ what: @autoclosure () -> String) -> TFLiteError {
        .invalidModel(what: what(), location: location.description)
    }

    // MARK: raw loads (callers have range-checked)

    @inline(__always) private func load<T: FixedWidthInteger>(_ type: T.Type, _ offset: Int) -> T {
        T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
    }

    /// Checks that `[offset, offset + length)` lies in the file and that `offset` is a multiple of `alignment`.
    func check(_ offset: Int, length: Int, alignment: Int, _ what: @autoclosure () -> String) throws {
        guard offset >= 0, length >= 0, offset <= count, length <= count - offset else {
            throw malformed("\(what()) (\(length) bytes) runs outside the file of \(count) bytes", at: offset)
        }
        guard alignment <= 1 || offset % alignment == 0 else {
            throw malformed("\(what()) is not \(alignment)-byte aligned", at: offset)
        }
        if state.pointee.marksStructure { storage?.markStructure(offset, length) }
    }

    func u8(_ offset: Int, _ what: @autoclosure () -> String) throws -> UInt8 {
        try check(offset, length: 1, alignment: 1, what()); return load(UInt8.self, offset)
    }

    func u32(_ offset: Int, _ what: @autoclosure () -> String) throws -> UInt32 {
        try check(offset, length: 4, alignment: 4, what()); return load(UInt32.self, offset)
    }

    // MARK: structure

    /// Runs `body` one nesting level deeper, enforcing the depth limit.
    func nested<R>(_ body: () throws -> R) throws -> R {
        state.pointee.depth += 1
        defer { state.pointee.depth -= 1 }
        guard state.pointee.depth <= Self.maxDepth else {
            throw TFLiteError.limitExceeded(what: "table nesting depth", limit: Self.maxDepth, location: location.description)
        }
        return try body()
    }

    /// Follows the `uoffset` stored at `offset` and returns the absolute target offset.
    func follow(_ offset: Int, _ what: @autoclosure () -> String) throws -> Int {
        let relative = Int(try u32(offset, "offset to \(what())"))
        guard relative != 0 else { throw malformed("offset to \(what()) is zero", at: offset) }
        let target = offset + relative
        guard target < count else {
            throw malformed("offset to \(what()) points to byte \(target), past the end of the file (\(count) bytes)", at: offset)
        }
        return target
    }

    /// Locates and checks the table at `position` (its vtable, vtable size and object size).
    func table(at position: Int, _ what: @autoclosure () -> String) throws -> Table {
        state.pointee.tablesVisited += 1
        guard state.pointee.tablesVisited <= Self.maxTables else {
            throw TFLiteError.limitExceeded(what: "number of tables", limit: Self.maxTables, location: location.description)
        }
        try check(position, length: 4, alignment: 4, "\(what()) table")
        let soffset = Int(Int32(bitPattern: load(UInt32.self, position)))
        let vtable = position - soffset
        try check(vtable, length: 4, alignment: 2, "vtable of \(what()) (soffset \(soffset) from the table at byte \(position))")
        let vtableSize = Int(load(UInt16.self, vtable))
        let objectSize = Int(load(UInt16.self, vtable + 2))
        guard vtableSize >= 4, vtableSize % 2 == 0 else {
            throw malformed("vtable of \(what()) has invalid size \(vtableSize)", at: vtable)
        }
        try check(vtable, length: vtableSize, alignment: 2, "vtable of \(what())")
        guard objectSize >= 4 else { throw malformed("\(what()) table has invalid object size \(objectSize)", at: position) }
        try check(position, length: objectSize, alignment: 4, "\(what()) table object")
        return Table(position: position, vtable: vtable, vtableSize: vtableSize, objectSize: objectSize)
    }

    /// The root table (after checking the root offset and the `TFL3` identifier).
    func root() throws -> Table {
        guard count >= 8 else { throw malformed("file is only \(count) bytes; a FlatBuffer needs at least 8", at: 0) }
        let ident = (4..<8).map { load(UInt8.self, $0) }
        guard ident == Array("TFL3".utf8) else {
            let shown = ident.map { ($0 >= 32 && $0 < 127) ? String(UnicodeScalar($0)) : "\\x" + String($0, radix: 16) }.joined()
            throw malformed("file identifier is '\(shown)', expected 'TFL3'", at: 4)
        }
        return try table(at: try follow(0, "root table"), "Model")
    }

    /// Absolute offset of field `id` of `table`, or nil when absent; checks it fits inside the object
    /// and is aligned to `size`.
    func field(_ table: Table, _ id: Int, size: Int, _ what: @autoclosure () -> String) throws -> Int? {
        let slot = 4 + 2 * id
        guard slot + 2 <= table.vtableSize else { return nil }
        let relative = Int(load(UInt16.self, table.vtable + slot))
        guard relative != 0 else { return nil }
        guard relative >= 4, relative + size <= table.objectSize else {
            throw malformed("field \(what()) (offset \(relative), \(size) bytes) lies outside its table object of \(table.objectSize) bytes", at: table.position)
        }
        let position = table.position + relative
        guard position % size == 0 else { throw malformed("field \(what()) is not \(size)-byte aligned", at: position) }
        return position
    }

    func scalar<T: FixedWidthInteger>(_ table: Table, _ id: Int, _ what: @autoclosure () -> String, default value: T) throws -> T {
        guard let position = try field(table, id, size: MemoryLayout<T>.size, what()) else { return value }
        return load(T.self, position)
    }

    func bool(_ table: Table, _ id: Int, _ what: @autoclosure () -> String, default value: Bool = false) throws -> Bool {
        try scalar(table, id, what(), default: UInt8(value ? 1 : 0)) != 0
    }

    /// The table referenced by field `id` (nil when absent).
    func tableField(_ table: Table, _ id: Int, _ what: @autoclosure () -> String) throws -> Table? {
        guard let position = try field(table, id, size: 4, what()) else { return nil }
        return try self.table(at: try follow(position, what()), what())
    }

    /// Locates a vector at `position` (its length word), checking range and element alignment.
    func vector(at position: Int, elementSize: Int, _ what: @autoclosure () -> String, isBufferData: Bool = false) throws -> Vector {
        let length = Int(try u32(position, "length of \(what())"))
        let start = position + 4
        let marking = state.pointee.marksStructure
        if isBufferData { state.pointee.marksStructure = false }
        defer { state.pointee.marksStructure = marking }
        try check(start, length: length * elementSize, alignment: elementSize, "\(what()) (\(length) elements of \(elementSize) bytes)")
        return Vector(start: start, count: length, elementSize: elementSize)
    }

    func vectorField(_ table: Table, _ id: Int, elementSize: Int, _ what: @autoclosure () -> String,
                     isBufferData: Bool = false) throws -> Vector? {
        guard let position = try field(table, id, size: 4, what()) else { return nil }
        return try vector(at: try follow(position, what()), elementSize: elementSize, what(), isBufferData: isBufferData)
    }

    private func spend(_ elements: Int, _ what: @autoclosure () -> String) throws {
        state.pointee.elementBudget -= elements
        guard state.pointee.elementBudget >= 0 else {
            throw TFLiteError.limitExceeded(what: "vector elements read (while reading \(what()))", limit: 4 * count + 1_000_000, location: location.description)
        }
    }

    /// The tables of a vector of tables, in order (each element is a `uoffset`).
    func tables(_ vector: Vector, _ what: @autoclosure () -> String) throws -> [Table] {
        try spend(vector.count, what())
        var result: [Table] = []
        result.reserveCapacity(vector.count)
        for index in 0..<vector.count {
            let slot = vector.start + 4 * index
            result.append(try table(at: try follow(slot, "\(what())[\(index)]"), "\(what())[\(index)]"))
        }
        return result
    }

    func tableVectorField(_ table: Table, _ id: Int, _ what: @autoclosure () -> String) throws -> [Table] {
        guard let vector = try vectorField(table, id, elementSize: 4, what()) else { return [] }
        return try tables(vector, what())
    }

    /// A vector of little-endian integers, widened to `Int`.
    func integers<T: FixedWidthInteger>(_ vector: Vector, as type: T.Type, _ what: @autoclosure () -> String) throws -> [Int] {
        try spend(vector.count, what())
        let n = vector.count, size = MemoryLayout<T>.size
        return [Int](unsafeUninitializedCapacity: n) { out, initialized in
            if n > 0, let dst = out.baseAddress, let base = bytes.baseAddress {
                // The vector was checked to lie in the file.
                let src = base + vector.start
                for i in 0..<n { dst[i] = Int(T(littleEndian: src.loadUnaligned(fromByteOffset: i * size, as: T.self))) }
            }
            initialized = n
        }
    }

    /// A vector of little-endian integers at their own width.
    func values<T: FixedWidthInteger>(_ vector: Vector, as type: T.Type, _ what: @autoclosure () -> String) throws -> [T] {
        try spend(vector.count, what())
        let n = vector.count
        return [T](unsafeUninitializedCapacity: n) { out, initialized in
            if n > 0, let dst = out.baseAddress, let base = bytes.baseAddress {
                // One copy of the checked range; then byte order (nothing to do on little-endian hosts).
                UnsafeMutableRawPointer(dst).copyMemory(from: base + vector.start, byteCount: n * MemoryLayout<T>.size)
                #if !_endian(little)
                for i in 0..<n { dst[i] = T(littleEndian: dst[i]) }
                #endif
            }
            initialized = n
        }
    }

    /// A vector of little-endian uint8 / uint16 / int32 sparse indices (`vector.elementSize` 1, 2
    /// or 4): read in place in `storage` when decoding a model (the range was checked and marked as
    /// structure), else copied.
    func indices(_ vector: Vector, _ what: @autoclosure () -> String) throws -> SparseIndices {
        try spend(vector.count, what())
        if let storage, let base = bytes.baseAddress {
            return SparseIndices(inPlace: base + vector.start, count: vector.count, width: vector.elementSize, owner: storage)
        }
        switch vector.elementSize {
        case 1: return SparseIndices(copying: try values(vector, as: UInt8.self, what()))
        case 2: return SparseIndices(copying: try values(vector, as: UInt16.self, what()))
        default: return SparseIndices(copying: try values(vector, as: Int32.self, what()))
        }
    }

    func intVectorField(_ table: Table, _ id: Int, _ what: @autoclosure () -> String) throws -> [Int]? {
        guard let vector = try vectorField(table, id, elementSize: 4, what()) else { return nil }
        return try integers(vector, as: Int32.self, what())
    }

    func floatVectorField(_ table: Table, _ id: Int, _ what: @autoclosure () -> String) throws -> [Float]? {
        guard let vector = try vectorField(table, id, elementSize: 4, what()) else { return nil }
        try spend(vector.count, what())
        return (0..<vector.count).map { Float(bitPattern: load(UInt32.self, vector.start + 4 * $0)) }
    }

    func int64VectorField(_ table: Table, _ id: Int, _ what: @autoclosure () -> String) throws -> [Int64]? {
        guard let vector = try vectorField(table, id, elementSize: 8, what()) else { return nil }
        try spend(vector.count, what())
        return (0..<vector.count).map { Int64(load(UInt64.self, vector.start + 8 * $0)) }
    }

    /// A string field (checked: in range, NUL-terminated). Invalid UTF-8 is replaced, never trusted.
    func stringField(_ table: Table, _ id: Int, _ what: @autoclosure () -> String) throws -> String? {
        guard let position = try field(table, id, size: 4, what()) else { return nil }
        let vector = try vector(at: try follow(position, what()), elementSize: 1, "string \(what())")
        let terminator = vector.start + vector.count
        guard try u8(terminator, "NUL terminator of string \(what())") == 0 else {
            throw malformed("string \(what()) is not NUL-terminated", at: terminator)
        }
        try spend(vector.count / 16, what())
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[vector.start..<terminator]), as: UTF8.self)
    }
}
