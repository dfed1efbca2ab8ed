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

    /// Equal when they hold the same values, whatever the stored width.
    public static func == (a: SparseIndices, b: SparseIndices) -> Bool { a.elementsEqual(b) }
}
