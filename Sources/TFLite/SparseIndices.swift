import CBlazeTarget

/// The index vector of a sparse (CSR) level — `array_segments` or `array_indices` — kept at the
/// width the file stores it in (`Uint8Vector`, `Uint16Vector` or `Int32Vector`) and read as `Int`.
///
/// Widening every index to `Int` at load would take 8 bytes per index for the life of the model:
/// 5.6 MB for the pose detector's uint8/uint16 vectors, against ~1 MB at their own width.
public struct SparseIndices: RandomAccessCollection, Equatable, Sendable, ExpressibleByArrayLiteral {
    enum Storage: Equatable, Sendable {
        case uint8([UInt8])
        case uint16([UInt16])
        case int32([Int32])
    }

    let storage: Storage

    init(_ storage: Storage) { self.storage = storage }

    /// Indices given as `Int` (stored as `Int32`; values outside its range are clamped, which a
    /// bounds check on the result then rejects).
    public init(_ values: [Int]) {
        storage = .int32(values.map { Int32(clamping: $0) })
    }

    public init(arrayLiteral elements: Int...) { self.init(elements) }

    public var startIndex: Int { 0 }

    public var endIndex: Int {
        switch storage {
        case let .uint8(v): return v.count
        case let .uint16(v): return v.count
        case let .int32(v): return v.count
        }
    }

    public subscript(position: Int) -> Int {
        switch storage {
        case let .uint8(v): return Int(v[position])
        case let .uint16(v): return Int(v[position])
        case let .int32(v): return Int(v[position])
        }
    }

    /// Whether every index in `range` (positions, inside `0..<count`) is in `0..<bound`.
    func allBelow(_ bound: Int, in range: Range<Int>) -> Bool {
        guard !range.isEmpty else { return true }
        switch storage {
        case let .uint8(v): return v[range].reduce(0) { Swift.max($0, $1) } < bound
        case let .uint16(v): return Int(v[range].reduce(0) { Swift.max($0, $1) }) < bound
        case let .int32(v):
            var low = Int32.max, high = Int32.min
            for x in v[range] { low = Swift.min(low, x); high = Swift.max(high, x) }
            return low >= 0 && Int(high) < bound
        }
    }

    /// Calls `body(position, index)` for every position in `range` (inside `0..<count`), in order,
    /// switching on the stored width once.
    @inline(__always)
    func forEach(in range: Range<Int>, _ body: (Int, Int) -> Void) {
        switch storage {
        case let .uint8(v): v.withUnsafeBufferPointer { p in for j in range { body(j, Int(p[j])) } }
        case let .uint16(v): v.withUnsafeBufferPointer { p in for j in range { body(j, Int(p[j])) } }
        case let .int32(v): v.withUnsafeBufferPointer { p in for j in range { body(j, Int(p[j])) } }
        }
    }

    /// Whether the indices at positions `range` (inside `0..<count`) strictly increase.
    func strictlyIncreasing(in range: Range<Int>) -> Bool {
        range.count < 2 || descents(in: range) == 0
    }

    /// How many positions `j` of `range` (inside `0..<count`), after its first, hold an index that
    /// is not above the one at `j − 1` (CBlazeTarget's vectorised `blaze_descents_*`).
    func descents(in range: Range<Int>) -> Int {
        guard range.count > 1 else { return 0 }
        func count<T>(_ v: [T], _ descents: (UnsafePointer<T>, Int) -> Int) -> Int {
            v.withUnsafeBufferPointer { p in p.baseAddress.map { descents($0 + range.lowerBound, range.count) } ?? 0 }
        }
        switch storage {
        case let .uint8(v): return count(v, blaze_descents_u8)
        case let .uint16(v): return count(v, blaze_descents_u16)
        case let .int32(v): return count(v, blaze_descents_i32)
        }
    }

    /// Writes `index + base` for every position in `range` (inside `0..<count`), in order, at
    /// `into` (`range.count` values; each must fit Int32).
    func write(_ range: Range<Int>, plus base: Int, into: UnsafeMutablePointer<Int32>) {
        guard !range.isEmpty else { return }
        let shift = Int32(truncatingIfNeeded: base)
        // CBlazeTarget's loops (vectorised; the Swift loops stayed scalar).
        func write<T>(_ v: [T], _ columns: (UnsafePointer<T>, Int, Int32, UnsafeMutablePointer<Int32>) -> Void) {
            v.withUnsafeBufferPointer { p in if let p = p.baseAddress { columns(p + range.lowerBound, range.count, shift, into) } }
        }
        switch storage {
        case let .uint8(v): write(v, blaze_columns_u8)
        case let .uint16(v): write(v, blaze_columns_u16)
        case let .int32(v): write(v, blaze_columns_i32)
        }
    }

    /// Equal when they hold the same values, whatever the stored width.
    public static func == (a: SparseIndices, b: SparseIndices) -> Bool { a.elementsEqual(b) }
}
