import Foundation

// NumPy `.npy` reading and writing, used for reference tensors (LiteRT fixtures,
// debugging dumps). Format: https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
//
//   bytes 0..<6   magic "\x93NUMPY"
//   byte  6, 7    format version major, minor (1.0, 2.0 or 3.0)
//   then          header length: UInt16 LE (v1) or UInt32 LE (v2, v3)
//   then          header: a Python dict literal, ASCII/latin-1 (v1, v2) or UTF-8 (v3),
//                 e.g. {'descr': '<f4', 'fortran_order': False, 'shape': (1, 224, 224, 3), }
//                 padded with spaces and ended by '\n' so the data starts 64-byte aligned
//   then          the elements, C order (row-major), in the byte order of `descr`.
//
// Only plain little-endian numeric arrays in C order are supported; everything
// else is rejected with an `NPYError` that names the file and the byte offset.

/// The element type of an ``NPYArray``, named by its NumPy `descr` string.
///
/// Data is always little-endian (NumPy `<`); one-byte types have no byte order (`|`).
public enum NPYDType: String, Sendable, CaseIterable {
    /// 32-bit IEEE float, `<f4`.
    case float32 = "<f4"
    /// 64-bit IEEE float, `<f8`.
    case float64 = "<f8"
    /// Unsigned 8-bit integer, `|u1`.
    case uint8 = "|u1"
    /// Signed 8-bit integer, `|i1`.
    case int8 = "|i1"
    /// Signed 32-bit integer, `<i4`.
    case int32 = "<i4"
    /// Signed 64-bit integer, `<i8`.
    case int64 = "<i8"

    /// Bytes per element.
    public var byteWidth: Int {
        switch self {
        case .uint8, .int8: return 1
        case .float32, .int32: return 4
        case .float64, .int64: return 8
        }
    }

    /// Parses a NumPy `descr` such as `<f4`, `|u1` or `<i4`.
    ///
    /// One-byte types are accepted with any byte-order mark (`|`, `<`, `>`, `=`)
    /// because byte order does not apply to them. Multi-byte types must be `<`.
    /// - Throws: ``NPYError/bigEndian(source:descr:)`` for `>` types,
    ///   ``NPYError/unsupportedDType(source:descr:)`` for anything else.
    static func parse(_ descr: String, source: String) throws -> NPYDType {
        let chars = Array(descr)
        guard chars.count >= 2, "<>|=".contains(chars[0]) else {
            throw NPYError.unsupportedDType(source: source, descr: descr)
        }
        let order = chars[0]
        let kindAndSize = String(chars[1...])
        switch kindAndSize {
        case "u1": return .uint8
        case "i1": return .int8
        case "f4", "f8", "i4", "i8":
            if order == ">" { throw NPYError.bigEndian(source: source, descr: descr) }
            // '|' (not applicable) and '=' (native) are not what NumPy writes for
            // multi-byte types; refuse rather than guess the byte order.
            guard order == "<" else { throw NPYError.unsupportedDType(source: source, descr: descr) }
            switch kindAndSize {
            case "f4": return .float32
            case "f8": return .float64
            case "i4": return .int32
            default: return .int64
            }
        default:
            throw NPYError.unsupportedDType(source: source, descr: descr)
        }
    }
}

/// Errors from reading, writing or converting `.npy` data. Each names the file
/// (or `"<memory>"`) and, for format errors, the byte offset where parsing failed.
public enum NPYError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file could not be read or written.
    case io(path: String, reason: String)
    /// The first 6 bytes are not `\x93NUMPY`.
    case badMagic(source: String)
    /// A format version other than 1.0, 2.0 or 3.0.
    case unsupportedVersion(source: String, major: Int, minor: Int)
    /// The data ends before `what` is complete (`needed` bytes from `offset`, `available` left).
    case truncated(source: String, what: String, offset: Int, needed: Int, available: Int)
    /// The header dictionary is not valid; `offset` is the byte offset in the file.
    case malformedHeader(source: String, offset: Int, reason: String)
    /// A `descr` this reader does not handle (structured, strings, float16, ...).
    case unsupportedDType(source: String, descr: String)
    /// A big-endian (`>`) multi-byte type.
    case bigEndian(source: String, descr: String)
    /// `fortran_order: True` (column-major) data.
    case fortranOrder(source: String)
    /// A negative dimension or a shape whose element count or byte size overflows `Int`.
    case invalidShape(source: String, shape: [Int], reason: String)
    /// Bytes after the last element (the header's shape and the data disagree).
    case trailingBytes(source: String, offset: Int, count: Int)
    /// An accessor asked for a type the array's dtype cannot be converted to exactly.
    case typeMismatch(dtype: NPYDType, requested: String)
    /// A value of an integer array does not fit the requested type (`index` in C order).
    case valueOutOfRange(dtype: NPYDType, requested: String, index: Int)
    /// Element count and shape disagree when building an array in memory.
    case countMismatch(shape: [Int], expected: Int, actual: Int)

    public var description: String {
        switch self {
        case let .io(path, reason):
            return "npy: \(path): \(reason)"
        case let .badMagic(source):
            return "npy: \(source): not a .npy file (bytes 0..<6 are not \\x93NUMPY)"
        case let .unsupportedVersion(source, major, minor):
            return "npy: \(source): unsupported format version \(major).\(minor) at byte 6 (expected 1.0, 2.0 or 3.0)"
        case let .truncated(source, what, offset, needed, available):
            return "npy: \(source): truncated \(what): needs \(needed) bytes at offset \(offset), only \(available) available"
        case let .malformedHeader(source, offset, reason):
            return "npy: \(source): malformed header at byte \(offset): \(reason)"
        case let .unsupportedDType(source, descr):
            return "npy: \(source): unsupported dtype '\(descr)' (supported: \(NPYDType.allCases.map(\.rawValue).joined(separator: ", ")))"
        case let .bigEndian(source, descr):
            return "npy: \(source): big-endian dtype '\(descr)' is not supported; save it little-endian (arr.astype('<\(descr.dropFirst())'))"
        case let .fortranOrder(source):
            return "npy: \(source): fortran_order is True; only C-order arrays are supported (save np.ascontiguousarray(arr))"
        case let .invalidShape(source, shape, reason):
            return "npy: \(source): invalid shape \(shape): \(reason)"
        case let .trailingBytes(source, offset, count):
            return "npy: \(source): \(count) unexpected bytes after the data, from offset \(offset)"
        case let .typeMismatch(dtype, requested):
            return "npy: cannot read \(dtype.rawValue) data as \(requested)"
        case let .valueOutOfRange(dtype, requested, index):
            return "npy: element \(index) of \(dtype.rawValue) data does not fit \(requested)"
        case let .countMismatch(shape, expected, actual):
            return "npy: shape \(shape) holds \(expected) elements, got \(actual)"
        }
    }
}

/// An n-dimensional array as stored in a NumPy `.npy` file: a shape, a dtype and
/// the raw little-endian element bytes in C order (row-major, last axis fastest).
///
/// ```swift
/// let heatmap = try NPYArray(contentsOf: url)      // e.g. shape [1, 64, 64, 39], <f4 (NHWC)
/// let values: [Float] = try heatmap.floats()       // 159744 values, C order
/// try NPYArray.write(floats: values, shape: [1, 64, 64, 39], to: otherURL)
/// ```
///
/// Reading accepts format versions 1.0, 2.0 and 3.0 and the dtypes of ``NPYDType``;
/// Fortran order, big-endian data, structured dtypes, malformed headers and truncated
/// data throw an ``NPYError`` naming the file and byte offset. Writing produces the
/// same bytes as `numpy.save` (version 1.0, or 2.0 when the header needs it).
public struct NPYArray: Equatable, Sendable {
    /// Dimensions, outermost first. `[]` is a scalar (one element).
    public let shape: [Int]
    /// Element type.
    public let dtype: NPYDType
    /// Element bytes, little-endian, C order; `count * dtype.byteWidth` bytes.
    public let bytes: [UInt8]

    /// Number of elements: the product of `shape` (1 for a scalar).
    public var count: Int { shape.reduce(1, *) }

    /// Wraps raw little-endian element bytes in C order.
    /// - Throws: ``NPYError/invalidShape(source:shape:reason:)`` for a negative or
    ///   overflowing shape, ``NPYError/countMismatch(shape:expected:actual:)`` when
    ///   `bytes.count != count * dtype.byteWidth` (counted in bytes).
    public init(shape: [Int], dtype: NPYDType, bytes: [UInt8]) throws {
        let n = try NPYArray.elementCount(shape, source: "<memory>")
        let (size, overflow) = n.multipliedReportingOverflow(by: dtype.byteWidth)
        guard !overflow else {
            throw NPYError.invalidShape(source: "<memory>", shape: shape, reason: "byte size overflows Int")
        }
        guard size == bytes.count else {
            throw NPYError.countMismatch(shape: shape, expected: size, actual: bytes.count)
        }
        self.shape = shape
        self.dtype = dtype
        self.bytes = bytes
    }

    /// A float32 (`<f4`) array; `values` in C order, `values.count` == product of `shape`.
    public init(floats values: [Float], shape: [Int]) throws {
        try self.init(values: values, shape: shape, dtype: .float32) { $0.bitPattern }
    }

    /// A float64 (`<f8`) array; `values` in C order.
    public init(doubles values: [Double], shape: [Int]) throws {
        try self.init(values: values, shape: shape, dtype: .float64) { $0.bitPattern }
    }

    /// An int32 (`<i4`) array; `values` in C order.
    public init(int32s values: [Int32], shape: [Int]) throws {
        try self.init(values: values, shape: shape, dtype: .int32) { UInt32(bitPattern: $0) }
    }

    /// A uint8 (`|u1`) array; `values` in C order (e.g. an NHWC RGB image).
    public init(uint8s values: [UInt8], shape: [Int]) throws {
        let n = try NPYArray.elementCount(shape, source: "<memory>")
        guard n == values.count else { throw NPYError.countMismatch(shape: shape, expected: n, actual: values.count) }
        self.shape = shape
        self.dtype = .uint8
        self.bytes = values
    }

    private init<T, Bits: FixedWidthInteger>(
        values: [T], shape: [Int], dtype: NPYDType, bits: (T) -> Bits
    ) throws {
        let n = try NPYArray.elementCount(shape, source: "<memory>")
        guard n == values.count else { throw NPYError.countMismatch(shape: shape, expected: n, actual: values.count) }
        var out = [UInt8]()
        out.reserveCapacity(values.count * MemoryLayout<Bits>.size)
        for v in values {
            withUnsafeBytes(of: bits(v).littleEndian) { out.append(contentsOf: $0) }
        }
        self.shape = shape
        self.dtype = dtype
        self.bytes = out
    }

    /// Largest element data ``init(contentsOf:maxDataBytes:)`` reads by default: 1 GiB.
    public static let defaultMaxDataBytes = 1 << 30

    /// Reads a `.npy` file, boundedly.
    ///
    /// The file is opened without blocking and must be a regular file (a FIFO or `/dev/zero` is an
    /// error, not a hang or an unbounded read). The magic, version and header are read and checked
    /// first; then exactly the data the header's shape and dtype announce is read, and only when the
    /// file holds exactly that many bytes after the header and it is at most `maxDataBytes`.
    /// - Parameter maxDataBytes: budget for the element data (default ``defaultMaxDataBytes``).
    /// - Throws: ``NPYError/io(path:reason:)`` if the file cannot be opened or read, or is not a
    ///   regular file; ``NPYError/invalidShape(source:shape:reason:)`` when the data exceeds the
    ///   budget; any format error of ``init(npyBytes:source:)`` with the file path as source.
    public init(contentsOf url: URL, maxDataBytes: Int = NPYArray.defaultMaxDataBytes) throws {
        let path = url.path
        let file: RegularFile
        do { file = try RegularFile(path: path) } catch let error as RegularFileError {
            throw NPYError.io(path: path, reason: "cannot read: \(error.reason)")
        }
        func read(_ offset: Int, _ count: Int) throws -> [UInt8] {
            do { return try file.read(at: offset, count: count) } catch let error as RegularFileError {
                throw NPYError.io(path: path, reason: error.reason)
            }
        }
        // Magic, version and header length: at most 12 bytes; a shorter file is parsed as it is
        // (init(npyBytes:) reports what is missing).
        let prefix = try read(0, min(file.size, 12))
        guard prefix.count == 12 else { self = try NPYArray(npyBytes: prefix, source: path); return }
        let parsed = try NPYArray.parsePrefix(prefix, source: path)
        // The header itself: at most 4 GiB by the format, but a real header is a few hundred bytes.
        guard parsed.headerLength <= 1 << 20 else {
            throw NPYError.malformedHeader(source: path, offset: parsed.headerStart - 4,
                                           reason: "header length \(parsed.headerLength) exceeds the 1 MiB limit")
        }
        guard file.size - parsed.headerStart >= parsed.headerLength else {
            throw NPYError.truncated(source: path, what: "header", offset: parsed.headerStart,
                                     needed: parsed.headerLength, available: file.size - parsed.headerStart)
        }
        let headerBytes = try read(0, parsed.headerStart + parsed.headerLength)
        let layout = try NPYArray.parseHeader(headerBytes, headerStart: parsed.headerStart, major: parsed.major, source: path)
        guard layout.byteCount <= maxDataBytes else {
            throw NPYError.invalidShape(source: path, shape: layout.shape,
                                        reason: "\(layout.byteCount) bytes of data exceed the budget of \(maxDataBytes) bytes")
        }
        let dataStart = headerBytes.count
        let available = file.size - dataStart
        guard available >= layout.byteCount else {
            throw NPYError.truncated(source: path, what: "data (\(layout.count) × \(layout.dtype.rawValue))", offset: dataStart,
                                     needed: layout.byteCount, available: available)
        }
        guard available == layout.byteCount else {
            throw NPYError.trailingBytes(source: path, offset: dataStart + layout.byteCount, count: available - layout.byteCount)
        }
        self = try NPYArray(shape: layout.shape, dtype: layout.dtype, bytes: read(dataStart, layout.byteCount))
    }

    /// Magic, version and header length of a file's first 12 bytes (v1 uses only 10).
    private static func parsePrefix(_ file: [UInt8], source: String) throws -> (major: Int, headerStart: Int, headerLength: Int) {
        let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // \x93NUMPY
        guard file.count >= 8, file[0..<6].elementsEqual(magic) else { throw NPYError.badMagic(source: source) }
        let major = Int(file[6]), minor = Int(file[7])
        guard minor == 0, (1...3).contains(major) else {
            throw NPYError.unsupportedVersion(source: source, major: major, minor: minor)
        }
        // v1 stores the header length as UInt16, v2/v3 as UInt32 (both little-endian).
        let lengthWidth = major == 1 ? 2 : 4
        guard file.count >= 8 + lengthWidth else {
            throw NPYError.truncated(source: source, what: "header length", offset: 8,
                                     needed: lengthWidth, available: file.count - 8)
        }
        var headerLength = 0
        for i in 0..<lengthWidth { headerLength |= Int(file[8 + i]) << (8 * i) }
        return (major, 8 + lengthWidth, headerLength)
    }

    /// Shape, dtype and data size from the header dictionary `file[headerStart...]`.
    private static func parseHeader(_ file: [UInt8], headerStart: Int, major: Int, source: String)
        throws -> (shape: [Int], dtype: NPYDType, count: Int, byteCount: Int) {
        var parser = NPYHeaderParser(bytes: file[headerStart..<file.count], source: source, utf8: major >= 3)
        let header = try parser.parseHeader()
        let dtype = try NPYDType.parse(header.descr, source: source)
        if header.fortranOrder { throw NPYError.fortranOrder(source: source) }
        let n = try NPYArray.elementCount(header.shape, source: source)
        let (size, overflow) = n.multipliedReportingOverflow(by: dtype.byteWidth)
        guard !overflow else {
            throw NPYError.invalidShape(source: source, shape: header.shape, reason: "byte size overflows Int")
        }
        return (header.shape, dtype, n, size)
    }

    /// Parses the bytes of a whole `.npy` file.
    /// - Parameter source: names the data in error messages (a path, or `"<memory>"`).
    public init(npyBytes file: [UInt8], source: String = "<memory>") throws {
        let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // \x93NUMPY
        guard file.count >= 6 else {
            if file.elementsEqual(magic.prefix(file.count)) {
                throw NPYError.truncated(source: source, what: "magic", offset: 0, needed: 6, available: file.count)
            }
            throw NPYError.badMagic(source: source)
        }
        guard file[0..<6].elementsEqual(magic) else { throw NPYError.badMagic(source: source) }
        guard file.count >= 8 else {
            throw NPYError.truncated(source: source, what: "version", offset: 6, needed: 2, available: file.count - 6)
        }
        let (major, headerStart, headerLength) = try NPYArray.parsePrefix(Array(file.prefix(12)), source: source)
        guard file.count - headerStart >= headerLength else {
            throw NPYError.truncated(source: source, what: "header", offset: headerStart,
                                     needed: headerLength, available: file.count - headerStart)
        }
        let dataStart = headerStart + headerLength
        let layout = try NPYArray.parseHeader(Array(file[0..<dataStart]), headerStart: headerStart, major: major, source: source)
        let size = layout.byteCount
        let available = file.count - dataStart
        guard available >= size else {
            throw NPYError.truncated(source: source, what: "data (\(layout.count) × \(layout.dtype.rawValue))", offset: dataStart,
                                     needed: size, available: available)
        }
        guard available == size else {
            throw NPYError.trailingBytes(source: source, offset: dataStart + size, count: available - size)
        }
        self.shape = layout.shape
        self.dtype = layout.dtype
        self.bytes = Array(file[dataStart..<(dataStart + size)])
    }

    /// Product of `shape`, or an error for a negative dimension or an overflow.
    static func elementCount(_ shape: [Int], source: String) throws -> Int {
        var n = 1
        for d in shape {
            guard d >= 0 else { throw NPYError.invalidShape(source: source, shape: shape, reason: "negative dimension") }
            let (m, overflow) = n.multipliedReportingOverflow(by: d)
            guard !overflow else {
                throw NPYError.invalidShape(source: source, shape: shape, reason: "element count overflows Int")
            }
            n = m
        }
        return n
    }

    // MARK: - Element access

    /// Maps every element's raw bits (little-endian on disk, native here) through `f`.
    @inline(__always)
    private func mapBits<B: FixedWidthInteger, R>(_: B.Type, _ f: (B) throws -> R) rethrows -> [R] {
        try bytes.withUnsafeBytes { raw in
            try (0..<count).map { i in
                try f(B(littleEndian: raw.loadUnaligned(fromByteOffset: i * MemoryLayout<B>.size, as: B.self)))
            }
        }
    }

    /// The elements as `Float`, C order.
    ///
    /// `<f4` data is returned bit-exactly. Other dtypes are converted with
    /// `Float(_:)` (round to nearest): exact for `|u1`, `|i1` and for integers of
    /// magnitude ≤ 2^24; `<f8` values are rounded to float32.
    public func floats() throws -> [Float] {
        switch dtype {
        case .float32: return mapBits(UInt32.self) { Float(bitPattern: $0) }
        case .float64: return mapBits(UInt64.self) { Float(Double(bitPattern: $0)) }
        case .uint8: return bytes.map { Float($0) }
        case .int8: return bytes.map { Float(Int8(bitPattern: $0)) }
        case .int32: return mapBits(UInt32.self) { Float(Int32(bitPattern: $0)) }
        case .int64: return mapBits(UInt64.self) { Float(Int64(bitPattern: $0)) }
        }
    }

    /// `|u1` elements mapped to model input values `x = Float(p) * scale + offset`, C order.
    ///
    /// This is the value transform of the LiteRT fixtures (`Tools/litert/README.md`),
    /// e.g. `scale = 2/255, offset = -1` for the detector (`[-1, 1]`) and
    /// `scale = 1/255, offset = 0` for the landmark models (`[0, 1]`). It is computed
    /// in float32 as a multiply and then an add, each rounded (Swift does not fuse
    /// them into an FMA), which is exactly what the Python side computes with NumPy.
    /// - Throws: ``NPYError/typeMismatch(dtype:requested:)`` unless the dtype is `|u1`.
    public func floats(scale: Float, offset: Float) throws -> [Float] {
        guard dtype == .uint8 else { throw NPYError.typeMismatch(dtype: dtype, requested: "UInt8 (for scale/offset)") }
        return bytes.map { p in
            let scaled = Float(p) * scale
            return scaled + offset
        }
    }

    /// The elements as `Double`, C order; exact for every dtype except `<i8`
    /// values of magnitude above 2^53, which are rounded.
    public func doubles() throws -> [Double] {
        switch dtype {
        case .float32: return mapBits(UInt32.self) { Double(Float(bitPattern: $0)) }
        case .float64: return mapBits(UInt64.self) { Double(bitPattern: $0) }
        case .uint8: return bytes.map { Double($0) }
        case .int8: return bytes.map { Double(Int8(bitPattern: $0)) }
        case .int32: return mapBits(UInt32.self) { Double(Int32(bitPattern: $0)) }
        case .int64: return mapBits(UInt64.self) { Double(Int64(bitPattern: $0)) }
        }
    }

    /// The elements as `UInt8`, C order. Only for `|u1` data.
    /// - Throws: ``NPYError/typeMismatch(dtype:requested:)`` for any other dtype.
    public func uint8s() throws -> [UInt8] {
        guard dtype == .uint8 else { throw NPYError.typeMismatch(dtype: dtype, requested: "UInt8") }
        return bytes
    }

    /// The elements as `Int32`, C order, from any integer dtype.
    /// - Throws: ``NPYError/typeMismatch(dtype:requested:)`` for float data,
    ///   ``NPYError/valueOutOfRange(dtype:requested:index:)`` for an `<i8` value outside Int32.
    public func int32s() throws -> [Int32] {
        switch dtype {
        case .uint8: return bytes.map { Int32($0) }
        case .int8: return bytes.map { Int32(Int8(bitPattern: $0)) }
        case .int32: return mapBits(UInt32.self) { Int32(bitPattern: $0) }
        case .int64:
            var index = 0
            return try mapBits(UInt64.self) { raw in
                defer { index += 1 }
                guard let w = Int32(exactly: Int64(bitPattern: raw)) else {
                    throw NPYError.valueOutOfRange(dtype: dtype, requested: "Int32", index: index)
                }
                return w
            }
        case .float32, .float64:
            throw NPYError.typeMismatch(dtype: dtype, requested: "Int32")
        }
    }

    // MARK: - Writing

    /// The complete `.npy` file bytes, identical to what `numpy.save` writes:
    /// format 1.0 (2.0 if the header exceeds 65535 bytes), header padded with spaces
    /// and ended by `'\n'` so that the data starts at a multiple of 64 bytes.
    public func npyBytes() -> [UInt8] {
        let dims: String
        switch shape.count {
        case 0: dims = "()"
        case 1: dims = "(\(shape[0]),)"
        default: dims = "(" + shape.map(String.init).joined(separator: ", ") + ")"
        }
        let dict = "{'descr': '\(dtype.rawValue)', 'fortran_order': False, 'shape': \(dims), }"
        var major: UInt8 = 1
        var prefix = 10  // magic 6 + version 2 + UInt16 length
        var padded = NPYArray.pad(dict, prefix: prefix)
        if padded.utf8.count > Int(UInt16.max) {
            major = 2
            prefix = 12
            padded = NPYArray.pad(dict, prefix: prefix)
        }
        var out: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, major, 0]
        let n = padded.utf8.count
        if major == 1 {
            withUnsafeBytes(of: UInt16(n).littleEndian) { out.append(contentsOf: $0) }
        } else {
            withUnsafeBytes(of: UInt32(n).littleEndian) { out.append(contentsOf: $0) }
        }
        out.append(contentsOf: padded.utf8)
        out.append(contentsOf: bytes)
        return out
    }

    /// Pads the header dict with spaces plus a final newline to a 64-byte boundary.
    private static func pad(_ dict: String, prefix: Int) -> String {
        let unpadded = prefix + dict.utf8.count + 1
        let spaces = (64 - unpadded % 64) % 64
        return dict + String(repeating: " ", count: spaces) + "\n"
    }

    /// Writes this array as a `.npy` file (see ``npyBytes()``).
    /// - Throws: ``NPYError/io(path:reason:)`` if the file cannot be written.
    public func write(to url: URL) throws {
        do {
            try Data(npyBytes()).write(to: url)
        } catch {
            throw NPYError.io(path: url.path, reason: "cannot write: \(error.localizedDescription)")
        }
    }

    /// Writes float32 `values` (C order) with `shape` as a `.npy` file.
    /// - Throws: ``NPYError/countMismatch(shape:expected:actual:)`` if `values.count`
    ///   is not the product of `shape`; ``NPYError/io(path:reason:)`` on write failure.
    public static func write(floats values: [Float], shape: [Int], to url: URL) throws {
        try NPYArray(floats: values, shape: shape).write(to: url)
    }
}

// MARK: - Header parsing

/// The three keys NumPy writes into every header.
struct NPYHeader {
    var descr: String
    var fortranOrder: Bool
    var shape: [Int]
}

/// A small parser for the Python dict literal of an `.npy` header. It accepts what
/// `numpy.lib.format` accepts for simple arrays (string, bool and tuple-of-int
/// values, either quote style, optional trailing commas, Python 2 `L` suffixes) and
/// reports the file byte offset of the first thing it does not understand.
struct NPYHeaderParser {
    let bytes: ArraySlice<UInt8>  // indices are file offsets
    let source: String
    let utf8: Bool
    var pos: Int

    init(bytes: ArraySlice<UInt8>, source: String, utf8: Bool) {
        self.bytes = bytes
        self.source = source
        self.utf8 = utf8
        self.pos = bytes.startIndex
    }

    private enum Value {
        case string(String)
        case bool(Bool)
        case int(Int)
        case tuple([Value])
        case list
        case none
    }

    private func fail(_ reason: String, at offset: Int? = nil) -> NPYError {
        .malformedHeader(source: source, offset: offset ?? pos, reason: reason)
    }

    private var atEnd: Bool { pos >= bytes.endIndex }
    private var peek: UInt8? { atEnd ? nil : bytes[pos] }

    private mutating func skipSpace() {
        while let c = peek, c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { pos += 1 }
    }

    private mutating func expect(_ c: Character) throws {
        skipSpace()
        guard let b = peek else { throw fail("unexpected end of header, expected '\(c)'") }
        guard b == c.asciiValue! else { throw fail("expected '\(c)', found \(describe(b))") }
        pos += 1
    }

    private func describe(_ b: UInt8) -> String {
        (0x21...0x7E).contains(b) ? "'\(Character(UnicodeScalar(b)))'" : String(format: "byte 0x%02x", b)
    }

    mutating func parseHeader() throws -> NPYHeader {
        try expect("{")
        var descr: String?, fortran: Bool?, shape: [Int]?
        while true {
            skipSpace()
            if peek == UInt8(ascii: "}") { pos += 1; break }
            let keyOffset = pos
            guard case let .string(key) = try parseValue() else { throw fail("dictionary key must be a string", at: keyOffset) }
            try expect(":")
            skipSpace()
            let valueOffset = pos
            let value = try parseValue()
            switch key {
            case "descr":
                guard descr == nil else { throw fail("duplicate key 'descr'", at: keyOffset) }
                switch value {
                case let .string(s): descr = s
                case .list: throw NPYError.unsupportedDType(source: source, descr: "<structured dtype>")
                default: throw fail("'descr' must be a string", at: valueOffset)
                }
            case "fortran_order":
                guard fortran == nil else { throw fail("duplicate key 'fortran_order'", at: keyOffset) }
                guard case let .bool(b) = value else { throw fail("'fortran_order' must be True or False", at: valueOffset) }
                fortran = b
            case "shape":
                guard shape == nil else { throw fail("duplicate key 'shape'", at: keyOffset) }
                guard case let .tuple(items) = value else { throw fail("'shape' must be a tuple", at: valueOffset) }
                shape = try items.map {
                    guard case let .int(d) = $0 else { throw fail("'shape' must hold integers", at: valueOffset) }
                    return d
                }
            default:
                throw fail("unexpected key '\(key)' (a header has exactly 'descr', 'fortran_order', 'shape')", at: keyOffset)
            }
            skipSpace()
            if peek == UInt8(ascii: ",") { pos += 1; continue }
            if peek == UInt8(ascii: "}") { pos += 1; break }
            if atEnd { throw fail("unexpected end of header, expected ',' or '}'") }
            throw fail("expected ',' or '}', found \(describe(bytes[pos]))")
        }
        skipSpace()
        guard atEnd else { throw fail("unexpected \(describe(bytes[pos])) after the header dictionary") }
        guard let d = descr else { throw fail("missing key 'descr'", at: bytes.startIndex) }
        guard let f = fortran else { throw fail("missing key 'fortran_order'", at: bytes.startIndex) }
        guard let s = shape else { throw fail("missing key 'shape'", at: bytes.startIndex) }
        return NPYHeader(descr: d, fortranOrder: f, shape: s)
    }

    /// Tuples nest at most this deep; a header is data from a file, and unbounded
    /// recursion on "((((((..." would overflow the stack.
    private static let maxDepth = 4

    private mutating func parseValue(depth: Int = 0) throws -> Value {
        guard depth <= Self.maxDepth else { throw fail("values nested deeper than \(Self.maxDepth) levels") }
        skipSpace()
        guard let c = peek else { throw fail("unexpected end of header, expected a value") }
        switch c {
        case UInt8(ascii: "'"), UInt8(ascii: "\""):
            return .string(try parseString(quote: c))
        case UInt8(ascii: "("):
            pos += 1
            var items: [Value] = []
            while true {
                skipSpace()
                if peek == UInt8(ascii: ")") { pos += 1; break }
                items.append(try parseValue(depth: depth + 1))
                skipSpace()
                if peek == UInt8(ascii: ",") { pos += 1; continue }
                if peek == UInt8(ascii: ")") { pos += 1; break }
                if atEnd { throw fail("unexpected end of header inside a tuple") }
                throw fail("expected ',' or ')' in a tuple, found \(describe(bytes[pos]))")
            }
            return .tuple(items)
        case UInt8(ascii: "["):
            // Structured dtypes are written as lists of tuples; skip to the matching ']'.
            var nesting = 0
            while let b = peek {
                pos += 1
                if b == UInt8(ascii: "[") { nesting += 1 }
                if b == UInt8(ascii: "]") { nesting -= 1; if nesting == 0 { return .list } }
            }
            throw fail("unexpected end of header inside a list")
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return .int(try parseInt())
        default:
            let start = pos
            while let b = peek, (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(b) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(b) {
                pos += 1
            }
            let word = String(decoding: bytes[start..<pos], as: UTF8.self)
            switch word {
            case "True": return .bool(true)
            case "False": return .bool(false)
            case "None": return .none
            default: throw fail(word.isEmpty ? "unexpected \(describe(c))" : "unknown name '\(word)'", at: start)
            }
        }
    }

    private mutating func parseString(quote: UInt8) throws -> String {
        let start = pos
        pos += 1
        var raw: [UInt8] = []
        while let b = peek {
            pos += 1
            if b == quote {
                // v1/v2 headers are latin-1, v3 headers UTF-8 (numpy.lib.format).
                if utf8 {
                    guard let s = String(bytes: raw, encoding: .utf8) else {
                        throw fail("string is not valid UTF-8", at: start)
                    }
                    return s
                }
                return String(raw.map { Character(UnicodeScalar($0)) })
            }
            if b == UInt8(ascii: "\\") { throw fail("escape sequences are not supported in header strings", at: pos - 1) }
            raw.append(b)
        }
        throw fail("unterminated string", at: start)
    }

    private mutating func parseInt() throws -> Int {
        let start = pos
        var negative = false
        if peek == UInt8(ascii: "-") { negative = true; pos += 1 }
        var value = 0
        var digits = 0
        while let b = peek, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b) {
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.addingReportingOverflow(Int(b - UInt8(ascii: "0")))
            guard !o1, !o2 else { throw fail("integer too large", at: start) }
            value = s
            digits += 1
            pos += 1
        }
        guard digits > 0 else { throw fail("expected digits", at: start) }
        if peek == UInt8(ascii: "L") { pos += 1 }  // Python 2 long suffix, e.g. (3L,)
        return negative ? -value : value
    }
}
