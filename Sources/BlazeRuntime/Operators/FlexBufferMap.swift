/// A FlexBuffers map (the encoding of MediaPipe's custom operators' `custom_options`), read with
/// every offset, width and length checked against the bytes: hostile bytes give a
/// `FlexBufferError` with the byte offset inside `custom_options`, never a trap or an unbounded read.
///
/// Supported: a root map whose values are scalars (INT, UINT, FLOAT, BOOL, their indirect forms) or
/// integer vectors (typed VECTOR_INT / VECTOR_UINT, or an untyped VECTOR of integer scalars).
struct FlexBufferMap {
    /// One map value: its address (byte offset of the slot), the slot's byte width, and its packed type.
    struct Value {
        let slot: Int
        let width: Int
        let type: Int
        let childWidth: Int
    }

    private let bytes: [UInt8]
    /// Key → value, in the file's key order.
    private(set) var values: [String: Value] = [:]

    // FlexBuffers type codes (flexbuffers.h).
    static let typeInt = 1, typeUInt = 2, typeFloat = 3, typeKey = 4
    static let typeIndirectInt = 6, typeIndirectUInt = 7, typeIndirectFloat = 8, typeMap = 9
    static let typeVector = 10, typeVectorInt = 11, typeVectorUInt = 12, typeVectorKey = 14, typeBool = 26

    /// Parses the root map of `data`.
    init(_ data: UnsafeRawBufferPointer) throws {
        bytes = Array(data)
        let n = bytes.count
        guard n >= 3 else { throw FlexBufferError(offset: 0, "is \(n) bytes, too short for a FlexBuffers root") }
        let rootWidth = Int(bytes[n - 1])
        guard [1, 2, 4, 8].contains(rootWidth) else { throw FlexBufferError(offset: n - 1, "root byte width \(rootWidth) is not 1, 2, 4 or 8") }
        let packed = Int(bytes[n - 2])
        let rootSlot = n - 2 - rootWidth
        guard rootSlot >= 0 else { throw FlexBufferError(offset: 0, "root slot lies before the first byte") }
        guard packed >> 2 == Self.typeMap else { throw FlexBufferError(offset: n - 2, "root is type \(packed >> 2), expected a map (9)") }
        let map = try target(slot: rootSlot, width: rootWidth)
        let width = 1 << (packed & 3)
        let count = try length(at: map, width: width)
        // Keys: the slots at map − 3w (offset to the keys vector) and map − 2w (its byte width).
        let keysWidth = try unsigned(at: map - 2 * width, width: width)
        guard [1, 2, 4, 8].contains(keysWidth) else { throw FlexBufferError(offset: map - 2 * width, "keys byte width \(keysWidth)") }
        let keys = try target(slot: map - 3 * width, width: width)
        let keyCount = try length(at: keys, width: keysWidth)
        guard keyCount == count else { throw FlexBufferError(offset: keys - keysWidth, "map has \(count) values but \(keyCount) keys") }
        // Values: `count` slots of `width` bytes, then `count` packed type bytes.
        let typesStart = map + count * width
        guard typesStart + count <= n else { throw FlexBufferError(offset: map, "map of \(count) values runs past the end (\(n) bytes)") }
        for i in 0..<count {
            let keyAddress = try target(slot: keys + i * keysWidth, width: keysWidth)
            let key = try string(at: keyAddress)
            let t = Int(bytes[typesStart + i])
            values[key] = Value(slot: map + i * width, width: width, type: t >> 2, childWidth: 1 << (t & 3))
        }
    }

    /// Whether the map has `key`.
    func contains(_ key: String) -> Bool { values[key] != nil }

    /// An integer value (INT, UINT, BOOL or their indirect forms), range-checked to Int32.
    func int(_ key: String) throws -> Int {
        guard let v = values[key] else { throw FlexBufferError(offset: 0, "has no '\(key)'") }
        let raw: Int
        switch v.type {
        case Self.typeInt: raw = try signed(at: v.slot, width: v.width)
        case Self.typeUInt, Self.typeBool: raw = try unsigned(at: v.slot, width: v.width)
        case Self.typeIndirectInt: raw = try signed(at: try target(slot: v.slot, width: v.width), width: v.childWidth)
        case Self.typeIndirectUInt: raw = try unsigned(at: try target(slot: v.slot, width: v.width), width: v.childWidth)
        default: throw FlexBufferError(offset: v.slot, "'\(key)' is type \(v.type), expected an integer")
        }
        guard raw >= Int(Int32.min), raw <= Int(Int32.max) else { throw FlexBufferError(offset: v.slot, "'\(key)' = \(raw) is outside Int32") }
        return raw
    }

    /// A float value (FLOAT of 4 or 8 bytes, its indirect form, or an integer).
    func float(_ key: String) throws -> Float {
        guard let v = values[key] else { throw FlexBufferError(offset: 0, "has no '\(key)'") }
        switch v.type {
        case Self.typeFloat: return try floating(at: v.slot, width: v.width)
        case Self.typeIndirectFloat: return try floating(at: try target(slot: v.slot, width: v.width), width: v.childWidth)
        case Self.typeInt, Self.typeUInt, Self.typeIndirectInt, Self.typeIndirectUInt: return Float(try int(key))
        default: throw FlexBufferError(offset: v.slot, "'\(key)' is type \(v.type), expected a float")
        }
    }

    /// An integer vector (typed VECTOR_INT / VECTOR_UINT, or a VECTOR of integer scalars).
    func ints(_ key: String) throws -> [Int] {
        guard let v = values[key] else { throw FlexBufferError(offset: 0, "has no '\(key)'") }
        let start = try target(slot: v.slot, width: v.width)
        let w = v.childWidth
        let count = try length(at: start, width: w)
        guard start + count * w <= bytes.count else { throw FlexBufferError(offset: start, "'\(key)': \(count) elements run past the end") }
        var out: [Int] = []
        out.reserveCapacity(count)
        switch v.type {
        case Self.typeVectorInt:
            for i in 0..<count { out.append(try signed(at: start + i * w, width: w)) }
        case Self.typeVectorUInt:
            for i in 0..<count { out.append(try unsigned(at: start + i * w, width: w)) }
        case Self.typeVector:
            guard start + count * w + count <= bytes.count else { throw FlexBufferError(offset: start, "'\(key)': element types run past the end") }
            for i in 0..<count {
                let t = Int(bytes[start + count * w + i]) >> 2
                switch t {
                case Self.typeInt: out.append(try signed(at: start + i * w, width: w))
                case Self.typeUInt: out.append(try unsigned(at: start + i * w, width: w))
                default: throw FlexBufferError(offset: start + count * w + i, "'\(key)' element \(i) is type \(t), expected an integer")
                }
            }
        default: throw FlexBufferError(offset: v.slot, "'\(key)' is type \(v.type), expected an integer vector")
        }
        for (i, x) in out.enumerated() where x < Int(Int32.min) || x > Int(Int32.max) {
            throw FlexBufferError(offset: start + i * w, "'\(key)' element \(i) = \(x) is outside Int32")
        }
        return out
    }

    // MARK: - Checked reads

    private func check(_ at: Int, _ width: Int) throws {
        guard at >= 0, width >= 0, at <= bytes.count - width else {
            throw FlexBufferError(offset: max(0, at), "read of \(width) bytes at \(at) is outside the \(bytes.count) bytes")
        }
    }

    private func unsigned(at: Int, width: Int) throws -> Int {
        try check(at, width)
        var v: UInt64 = 0
        for i in 0..<width { v |= UInt64(bytes[at + i]) << (8 * UInt64(i)) }
        guard v <= UInt64(Int.max) else { throw FlexBufferError(offset: at, "value \(v) is too large") }
        return Int(v)
    }

    private func signed(at: Int, width: Int) throws -> Int {
        try check(at, width)
        var v: UInt64 = 0
        for i in 0..<width { v |= UInt64(bytes[at + i]) << (8 * UInt64(i)) }
        let shift = UInt64(64 - 8 * width)
        return Int(Int64(bitPattern: v << shift) >> Int64(shift))
    }

    private func floating(at: Int, width: Int) throws -> Float {
        switch width {
        case 4: return Float(bitPattern: UInt32(try unsigned(at: at, width: 4)))
        case 8:
            try check(at, 8)
            var v: UInt64 = 0
            for i in 0..<8 { v |= UInt64(bytes[at + i]) << (8 * UInt64(i)) }
            return Float(Double(bitPattern: v))
        default: throw FlexBufferError(offset: at, "float of \(width) bytes")
        }
    }

    /// The address an offset slot points to (`slot − value`), checked to lie inside the bytes.
    private func target(slot: Int, width: Int) throws -> Int {
        let off = try unsigned(at: slot, width: width)
        guard off <= slot else { throw FlexBufferError(offset: slot, "offset \(off) points before the first byte") }
        return slot - off
    }

    /// A vector's element count, stored in the `width` bytes before it, bounded by the buffer size.
    private func length(at start: Int, width: Int) throws -> Int {
        let n = try unsigned(at: start - width, width: width)
        guard n <= bytes.count else { throw FlexBufferError(offset: start - width, "length \(n) exceeds the \(bytes.count) bytes") }
        return n
    }

    /// A NUL-terminated key at `at`.
    private func string(at: Int) throws -> String {
        guard at >= 0, at < bytes.count, let end = bytes[at...].firstIndex(of: 0) else {
            throw FlexBufferError(offset: max(0, at), "key is not NUL-terminated inside the bytes")
        }
        return String(decoding: bytes[at..<end], as: UTF8.self)
    }
}

/// A malformed FlexBuffers `custom_options`: what is wrong and at which byte offset.
struct FlexBufferError: Error, CustomStringConvertible {
    let offset: Int
    let detail: String
    init(offset: Int, _ detail: String) { self.offset = offset; self.detail = detail }
    var description: String { "custom_options (FlexBuffers) \(detail) (byte \(offset))" }
}
