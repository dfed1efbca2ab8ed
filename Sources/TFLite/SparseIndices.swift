import CBlazeTarget

/// The index vector of a sparse (CSR) level — `array_segments` or `array_indices` — kept at the
/// width the file stores it in (`Uint8Vector`, `Uint16Vector` or `Int32Vector`) and read as `Int`.
///
/// Widening every index to `Int` at load would take 8 bytes per index for the life of the model:
/// 5.6 MB for the pose detector's uint8/uint16 vectors, against ~1 MB at their own width. A model
/// read from a file keeps them where they are, in its storage (``init(inPlace:count:width:owner:)``:
/// no copy, no fresh pages; the storage keeps those pages when it releases the weights').
public struct SparseIndices: RandomAccessCollection, Equatable, @unchecked Sendable, ExpressibleByArrayLiteral {
    /// Where the indices are: `count` little-endian integers of `width` bytes (1: uint8, 2: uint16,
    /// 4: int32) at `base`, aligned to their width, kept alive by `owner` (the array or storage
    /// holding them) and never written.
    private let base: UnsafeRawPointer?
    public let count: Int
    private let width: Int
    private let owner: AnyObject?

    /// Indices read in place: `count` little-endian integers of `width` bytes (1: `UInt8`, 2: `UInt16`,
    /// 4: `Int32`; any other width is read as 4) at `base`, aligned to `width`, valid and unchanged as
    /// long as `owner` lives.
    init(inPlace base: UnsafeRawPointer, count: Int, width: Int, owner: AnyObject) {
        self.base = count > 0 ? base : nil
        self.count = Swift.max(0, count)
        self.width = width == 1 || width == 2 ? width : 4
        self.owner = owner
    }

    /// A copy of `values` at their own width.
    init<T: FixedWidthInteger>(copying values: [T]) {
        let box = Box(byteCount: values.count * MemoryLayout<T>.size)
        values.withUnsafeBytes { if let source = $0.baseAddress, !$0.isEmpty { box.memory.copyMemory(from: source, byteCount: $0.count) } }
        self.init(inPlace: UnsafeRawPointer(box.memory), count: values.count, width: MemoryLayout<T>.size, owner: box)
    }

    /// Owned memory for copied indices.
    private final class Box {
        let memory: UnsafeMutableRawPointer
        init(byteCount: Int) { memory = .allocate(byteCount: Swift.max(1, byteCount), alignment: 16) }
        deinit { memory.deallocate() }
    }

    /// Indices given as `Int` (stored as `Int32`; values outside its range are clamped, which a
    /// bounds check on the result then rejects).
    public init(_ values: [Int]) {
        self.init(copying: values.map { Int32(clamping: $0) })
    }

    public init(arrayLiteral elements: Int...) { self.init(elements) }

    public var startIndex: Int { 0 }

    public var endIndex: Int { count }

    /// Calls the closure for the stored width with the indices as a typed buffer (little-endian
    /// hosts read them as they are; big-endian ones through a byte-swapped copy).
    @inline(__always)
    private func withStorage<R>(_ u8: (UnsafeBufferPointer<UInt8>) -> R, _ u16: (UnsafeBufferPointer<UInt16>) -> R,
                                _ i32: (UnsafeBufferPointer<Int32>) -> R) -> R {
        #if _endian(little)
        switch width {
        case 1: return u8(UnsafeBufferPointer(start: base?.assumingMemoryBound(to: UInt8.self), count: count))
        case 2: return u16(UnsafeBufferPointer(start: base?.assumingMemoryBound(to: UInt16.self), count: count))
        default: return i32(UnsafeBufferPointer(start: base?.assumingMemoryBound(to: Int32.self), count: count))
        }
        #else
        switch width {
        case 1: return u8(UnsafeBufferPointer(start: base?.assumingMemoryBound(to: UInt8.self), count: count))
        case 2: return (base.map { b in (0..<count).map { UInt16(littleEndian: b.load(fromByteOffset: 2 * $0, as: UInt16.self)) } } ?? []).withUnsafeBufferPointer(u16)
        default: return (base.map { b in (0..<count).map { Int32(littleEndian: b.load(fromByteOffset: 4 * $0, as: Int32.self)) } } ?? []).withUnsafeBufferPointer(i32)
        }
        #endif
    }

    public subscript(position: Int) -> Int {
        precondition(position >= 0 && position < count, "SparseIndices: position \(position) out of range 0..<\(count)")
        return withStorage({ Int($0[position]) }, { Int($0[position]) }, { Int($0[position]) })
    }

    /// Whether every index in `range` (positions, inside `0..<count`) is in `0..<bound`: the
    /// smallest and largest in one vectorised pass (CBlazeTarget's `blaze_index_bounds_*`).
    func allBelow(_ bound: Int, in range: Range<Int>) -> Bool {
        guard !range.isEmpty else { return true }
        var low = 0, high = 0
        withStorage({ p in if let p = p.baseAddress { blaze_index_bounds_u8(p + range.lowerBound, range.count, &low, &high) } },
                    { p in if let p = p.baseAddress { blaze_index_bounds_u16(p + range.lowerBound, range.count, &low, &high) } },
                    { p in if let p = p.baseAddress { blaze_index_bounds_i32(p + range.lowerBound, range.count, &low, &high) } })
        return low >= 0 && high < bound
    }

    /// Calls `body(position, index)` for every position in `range` (inside `0..<count`), in order,
    /// switching on the stored width once.
    @inline(__always)
    func forEach(in range: Range<Int>, _ body: (Int, Int) -> Void) {
        withStorage({ p in for j in range { body(j, Int(p[j])) } },
                    { p in for j in range { body(j, Int(p[j])) } },
                    { p in for j in range { body(j, Int(p[j])) } })
    }

    /// Whether the indices at positions `range` (inside `0..<count`) strictly increase.
    func strictlyIncreasing(in range: Range<Int>) -> Bool {
        range.count < 2 || descents(in: range) == 0
    }

    /// How many positions `j` of `range` (inside `0..<count`), after its first, hold an index that
    /// is not above the one at `j − 1` (CBlazeTarget's vectorised `blaze_descents_*`).
    func descents(in range: Range<Int>) -> Int {
        guard range.count > 1 else { return 0 }
        return withStorage({ p in p.baseAddress.map { blaze_descents_u8($0 + range.lowerBound, range.count) } ?? 0 },
                           { p in p.baseAddress.map { blaze_descents_u16($0 + range.lowerBound, range.count) } ?? 0 },
                           { p in p.baseAddress.map { blaze_descents_i32($0 + range.lowerBound, range.count) } ?? 0 })
    }

    /// How many distinct starts `s` of `starts` (non-decreasing positions) with `range.lowerBound <
    /// s < range.upperBound` (inside `0..<count`) hold an index not above the one at `s − 1`: the
    /// descents of ``descents(in:)`` over `range` that fall on segment boundaries.
    func descents(atStarts starts: UnsafeBufferPointer<Int32>, in range: Range<Int>) -> Int {
        guard let s = starts.baseAddress, range.count > 1 else { return 0 }
        let n = starts.count, begin = range.lowerBound, end = range.upperBound
        return withStorage({ p in p.baseAddress.map { blaze_start_descents_u8($0, s, n, begin, end) } ?? 0 },
                           { p in p.baseAddress.map { blaze_start_descents_u16($0, s, n, begin, end) } ?? 0 },
                           { p in p.baseAddress.map { blaze_start_descents_i32($0, s, n, begin, end) } ?? 0 })
    }

    /// The indices in place for CBlazeTarget's loops: their first byte and their width (1, 2 or
    /// 4 bytes), nil when there are none or the host is big-endian (they are stored little-endian).
    var inPlace: (base: UnsafeRawPointer, width: Int)? {
        #if _endian(little)
        guard let base else { return nil }
        return (base, width)
        #else
        return nil
        #endif
    }

    /// Writes `index + base` for every position in `range` (inside `0..<count`), in order, at
    /// `into` (`range.count` values; each must fit Int32), with CBlazeTarget's vectorised loops.
    func write(_ range: Range<Int>, plus base: Int, into: UnsafeMutablePointer<Int32>) {
        guard !range.isEmpty else { return }
        let shift = Int32(truncatingIfNeeded: base), start = range.lowerBound, n = range.count
        withStorage({ p in if let p = p.baseAddress { blaze_columns_u8(p + start, n, shift, into) } },
                    { p in if let p = p.baseAddress { blaze_columns_u16(p + start, n, shift, into) } },
                    { p in if let p = p.baseAddress { blaze_columns_i32(p + start, n, shift, into) } })
    }

    /// Equal when they hold the same values, whatever the stored width.
    public static func == (a: SparseIndices, b: SparseIndices) -> Bool { a.elementsEqual(b) }
}
