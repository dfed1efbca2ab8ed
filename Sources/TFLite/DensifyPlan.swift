import CBlazeTarget

/// A checked plan to expand a sparse constant to its dense row-major form (TFLite's sparsity format:
/// `traversalOrder` over the `n` tensor dims then `k` block dims, `blockMap`, and per-level DENSE /
/// SPARSE_CSR metadata). The initializer checks all metadata that does not depend on the stored
/// indices; ``densify(_:)`` checks every index it reads.
struct DensifyPlan {
    let sparsity: Sparsity
    let location: String
    /// Elements of the dense tensor.
    let denseCount: Int
    /// Size of every expanded dim: `0..<n` the block-grid dims of the tensor, `n..<n+k` the block dims.
    let expanded: [Int]
    /// Distance in the dense tensor between neighbours along each expanded dim.
    let strides: [Int]
    let isHalf: Bool
    let valueCount: Int

    init(_ tensor: Tensor, sparsity: Sparsity, data: UnsafeRawBufferPointer, maxElements: Int, location: String) throws {
        func bad(_ what: String) -> TFLiteError { .invalidModel(what: "sparsity: " + what, location: location) }
        let shape = tensor.shape, n = shape.count, k = sparsity.blockMap.count, levels = n + k
        guard let denseCount = tensor.elementCount, denseCount <= maxElements else {
            throw bad("dense shape \(shape) is too large")
        }
        // The walk recurses once per level; real tensors have a handful, hostile files could claim thousands.
        guard levels <= 16 else { throw bad("\(levels) levels (rank \(n) + \(k) block dims); at most 16 are supported") }
        guard sparsity.traversalOrder.count == levels, sparsity.dimensionMetadata.count == levels else {
            throw bad("traversal_order has \(sparsity.traversalOrder.count) and dim_metadata \(sparsity.dimensionMetadata.count) entries; expected \(levels) (rank \(n) + \(k) block dims)")
        }
        guard Set(sparsity.traversalOrder) == Set(0..<levels) else {
            throw bad("traversal_order \(sparsity.traversalOrder) is not a permutation of 0..<\(levels)")
        }
        guard sparsity.blockMap.allSatisfy({ $0 >= 0 && $0 < n }), Set(sparsity.blockMap).count == k else {
            throw bad("block_map \(sparsity.blockMap) is not a set of distinct dims of rank \(n)")
        }
        var expanded = shape + Array(repeating: 0, count: k)
        var blockSizes = Array(repeating: 1, count: n)   // tensor dim -> its block size (1: not blocked)
        for (i, dim) in sparsity.blockMap.enumerated() {
            guard let level = sparsity.traversalOrder.firstIndex(of: n + i),
                  case let .dense(blockSize) = sparsity.dimensionMetadata[level], blockSize > 0,
                  shape[dim] % blockSize == 0 else {
                throw bad("block dim \(n + i) must be a dense level whose size divides dim \(dim) of shape \(shape)")
            }
            expanded[n + i] = blockSize
            expanded[dim] = shape[dim] / blockSize
            blockSizes[dim] = blockSize
        }
        self.sparsity = sparsity
        self.location = location
        self.denseCount = denseCount
        self.expanded = expanded
        // An empty tensor has nothing to place (and its strides could overflow for hostile shapes).
        guard denseCount > 0 else {
            strides = []; isHalf = false; valueCount = 0
            return
        }
        guard let elementSize = tensor.type.byteSize, tensor.type == .float32 || tensor.type == .float16 else {
            throw TFLiteError.unsupported(what: "sparse constant of type \(tensor.type)", location: location)
        }
        guard data.count % elementSize == 0 else { throw bad("value buffer of \(data.count) bytes is not a whole number of \(tensor.type)") }
        valueCount = data.count / elementSize
        isHalf = tensor.type == .float16
        // Row-major strides of the dense tensor; a block-grid coordinate moves a whole block.
        var rowStrides = Array(repeating: 1, count: n)
        if n > 1 { for d in stride(from: n - 2, through: 0, by: -1) { rowStrides[d] = rowStrides[d + 1] * shape[d + 1] } }
        var strides = Array(repeating: 0, count: levels)
        for d in 0..<n { strides[d] = rowStrides[d] * blockSizes[d] }
        for (i, dim) in sparsity.blockMap.enumerated() { strides[n + i] = rowStrides[dim] }
        self.strides = strides
    }

    private func bad(_ what: String) -> TFLiteError { .invalidModel(what: "sparsity: " + what, location: location) }

    /// The dense float32 values, row-major. Every index read from the metadata is bounds-checked, so
    /// every write lands inside the tensor (a coordinate along each expanded dim is below its size).
    func densify(_ data: UnsafeRawBufferPointer) throws -> [Float] {
        guard denseCount > 0 else { return [] }
        var dense = [Float](repeating: 0, count: denseCount)
        try dense.withUnsafeMutableBufferPointer { out in
            guard let base = out.baseAddress, let source = data.baseAddress else { return }
            if sparsity.traversalOrder.isEmpty {   // a scalar: one value, no levels
                guard valueCount > 0 else { throw bad("value index 0 out of range 0..<\(valueCount)") }
                store(source, 0, to: base, count: 1, stride: 1)
                return
            }
            try visit(level: 0, position: 0, offset: 0, source: source, dense: base)
        }
        return dense
    }

    /// Whether rows (indices along dim 0) can be densified on their own: the first level walks dim 0
    /// densely and no block dim subdivides it, so row `o` is the subtree at position `o` of level 0.
    var readsRowsDirectly: Bool {
        guard denseCount > 0, let first = sparsity.traversalOrder.first, first == 0,
              case .dense = sparsity.dimensionMetadata[0], !sparsity.blockMap.contains(0) else { return false }
        return true
    }

    /// Checks every index `densify(_:)` would read, so that a later ``densifyRows(_:first:count:rowLength:into:)``
    /// cannot fail. Common layouts (dense levels in dim order, then one CSR level) are checked in
    /// one pass over the stored vectors; anything else, or any problem found, is checked by
    /// densifying, which throws the error of the first bad index in walk order. Returns the CSR
    /// level's segments (`[parents + 1]`, as Int32) when the one-pass check passed, else nil.
    @discardableResult
    func validate(_ data: UnsafeRawBufferPointer) throws -> [Int32]? {
        guard denseCount > 0 else { return nil }
        if let starts = quickCheck() { return starts }
        _ = try densify(data)
        return nil
    }

    /// The segments of the last level (the first `parents + 1`, as Int32) when the layout is dense
    /// levels `0..<n-1` in dim order (sizes matching) followed by one CSR level over the last dim,
    /// and every segment and index that the walk reads is in range; else nil. The segments are
    /// widened in one pass and checked in another, the indices' bounds found in a third (all
    /// CBlazeTarget loops or loops LLVM vectorises).
    private func quickCheck() -> [Int32]? {
        let levels = sparsity.traversalOrder.count
        guard levels >= 1, sparsity.blockMap.isEmpty, sparsity.traversalOrder == Array(0..<levels) else { return nil }
        var parents = 1
        for level in 0..<(levels - 1) {
            guard case let .dense(size) = sparsity.dimensionMetadata[level], size == expanded[level] else { return nil }
            parents *= size
        }
        guard case let .sparseCSR(segments, indices) = sparsity.dimensionMetadata[levels - 1],
              segments.count >= parents + 1 else { return nil }
        var starts = [Int32](repeating: 0, count: parents + 1)   // [parents + 1]
        let decreases = starts.withUnsafeMutableBufferPointer { out -> Int in
            guard let s = out.baseAddress else { return 1 }
            segments.write(0..<(parents + 1), plus: 0, into: s)
            var decreases = 0
            for p in 1..<(parents + 1) { decreases &+= s[p] < s[p - 1] ? 1 : 0 }
            return decreases
        }
        let begin = Int(starts[0]), end = Int(starts[parents])
        guard decreases == 0, begin >= 0, end <= indices.count, begin == end || end <= valueCount else { return nil }
        return indices.allBelow(expanded[levels - 1], in: begin..<end) ? starts : nil
    }

    /// Rows `first ..< first + count` along dim 0 (`rowLength` floats each, `denseCount / shape[0]`)
    /// at `into`, as ``densify(_:)`` would place them. Only when ``readsRowsDirectly`` and after
    /// ``validate(_:)`` passed (then nothing can fail).
    func densifyRows(_ data: UnsafeRawBufferPointer, first: Int, count: Int, rowLength: Int, into: UnsafeMutablePointer<Float>) {
        guard count > 0, let source = data.baseAddress else { return }
        into.initialize(repeating: 0, count: count * rowLength)
        if sparsity.traversalOrder.count == 1 {
            // One dense level: the values are the rows.
            store(source, first * rowLength, to: into, count: count * rowLength, stride: 1)
            return
        }
        for o in first..<(first + count) {
            _ = try? visit(level: 1, position: o, offset: (o - first) * rowLength, source: source, dense: into)
        }
    }

    /// Writes `count` consecutive stored values from index `first` at `dense`, `stride` apart.
    @inline(__always)
    private func store(_ source: UnsafeRawPointer, _ first: Int, to dense: UnsafeMutablePointer<Float>, count: Int, stride: Int) {
        if stride == 1 {
            if isHalf { widenHalves(from: source + 2 * first, to: dense, count: count) }
            else { copyLittleEndianFloats(from: source + 4 * first, to: dense, count: count) }
            return
        }
        for i in 0..<count {
            let index = first + i
            dense[i * stride] = isHalf
                ? halfToFloat(UInt16(littleEndian: source.loadUnaligned(fromByteOffset: 2 * index, as: UInt16.self)))
                : Float(bitPattern: UInt32(littleEndian: source.loadUnaligned(fromByteOffset: 4 * index, as: UInt32.self)))
        }
    }

    /// Depth-first walk of the levels; `position` is the index of the current node within its level,
    /// `offset` the dense index of the coordinates fixed so far. The last level writes values.
    private func visit(level: Int, position: Int, offset: Int, source: UnsafeRawPointer, dense: UnsafeMutablePointer<Float>) throws {
        let dim = sparsity.traversalOrder[level], stride = strides[dim]
        let last = level == sparsity.traversalOrder.count - 1
        switch sparsity.dimensionMetadata[level] {
        case let .dense(size):
            guard size == expanded[dim] else { throw bad("dense level \(level) has size \(size), dim \(dim) has \(expanded[dim])") }
            if last {
                let first = position * size
                guard first + size <= valueCount else { throw bad("value index \(max(first, valueCount)) out of range 0..<\(valueCount)") }
                store(source, first, to: dense + offset, count: size, stride: stride)
                return
            }
            for i in 0..<size {
                try visit(level: level + 1, position: position * size + i, offset: offset + i * stride, source: source, dense: dense)
            }
        case let .sparseCSR(segments, indices):
            guard position + 1 < segments.count else { throw bad("array_segments of level \(level) has \(segments.count) entries, needs index \(position + 1)") }
            let begin = segments[position], end = segments[position + 1]
            guard begin >= 0, begin <= end, end <= indices.count else {
                throw bad("segment \(begin)..<\(end) of level \(level) is outside array_indices (\(indices.count) entries)")
            }
            if last, end <= valueCount, indices.allBelow(expanded[dim], in: begin..<end) {
                // Every index and value in range (checked in one pass): scatter without per-element checks.
                let out = dense + offset
                if isHalf {
                    // The segment's values are contiguous: widen them in one vectorised pass
                    // (`widenHalves`, the bits of `halfToFloat`), then scatter.
                    withUnsafeTemporaryAllocation(of: Float.self, capacity: end - begin) { values in
                        guard let widened = values.baseAddress else { return }
                        widenHalves(from: source + 2 * begin, to: widened, count: end - begin)
                        indices.forEach(in: begin..<end) { j, c in out[c * stride] = widened[j - begin] }
                    }
                } else {
                    indices.forEach(in: begin..<end) { j, c in
                        out[c * stride] = Float(bitPattern: UInt32(littleEndian: source.loadUnaligned(fromByteOffset: 4 * j, as: UInt32.self)))
                    }
                }
                return
            }
            for j in begin..<end {
                let c = indices[j]
                guard c >= 0, c < expanded[dim] else { throw bad("index \(c) at level \(level) out of range 0..<\(expanded[dim])") }
                if last {
                    guard j < valueCount else { throw bad("value index \(j) out of range 0..<\(valueCount)") }
                    dense[offset + c * stride] = isHalf
                        ? halfToFloat(UInt16(littleEndian: source.loadUnaligned(fromByteOffset: 2 * j, as: UInt16.self)))
                        : Float(bitPattern: UInt32(littleEndian: source.loadUnaligned(fromByteOffset: 4 * j, as: UInt32.self)))
                } else {
                    try visit(level: level + 1, position: j, offset: offset + c * stride, source: source, dense: dense)
                }
            }
        }
    }
}


extension DensifyPlan {
    /// The tensor's stored entries by rows along dim 0 (``SparseConstantRows``), without densifying:
    /// only for the layout ``validate(_:)`` checks in one pass (dense levels `0..<n-1` in dim order,
    /// then one CSR level over the last dim, no blocks) with rank ≥ 2, `rowCount` = dim 0, and every
    /// segment's indices strictly increasing (so each dense position gets at most one value, as in
    /// ``densify(_:)``); nil otherwise. `starts`: what ``validate(_:)`` returned (nil: no rows).
    func sparseRows(_ data: UnsafeRawBufferPointer, rowCount: Int, starts: [Int32]?) -> SparseConstantRows? {
        let levels = sparsity.traversalOrder.count
        guard denseCount > 0, levels >= 2, expanded.count == levels, expanded[0] == rowCount, let starts,
              case let .sparseCSR(_, indices) = sparsity.dimensionMetadata[levels - 1],
              let base = data.baseAddress else { return nil }
        // Parents of the CSR level per row (the dims between the first and the last), and the last dim.
        let perRow = expanded[1..<(levels - 1)].reduce(1, *), last = expanded[levels - 1]
        // Columns (r·last + index) must fit Int32 (as the kernels store them).
        guard rowCount * perRow * last <= Int(Int32.max), starts.count == rowCount * perRow + 1 else { return nil }
        let begin = Int(starts[0]), end = Int(starts[rowCount * perRow])
        let (maxRow, increasing) = starts.withUnsafeBufferPointer { s -> (Int, Bool) in
            var maxRow = 0
            for o in 0..<rowCount { maxRow = max(maxRow, Int(s[(o + 1) * perRow]) - Int(s[o * perRow])) }
            // Every segment's indices strictly increase: over all stored entries, the positions where
            // an index does not exceed the one before may only be segment starts (one vectorised
            // count, then one look per distinct start).
            return (maxRow, indices.descents(in: begin..<end) == indices.descents(atStarts: s, in: begin..<end))
        }
        guard increasing else { return nil }
        // Entries that are not ±0, from the stored bits (FLOAT16 and FLOAT32 alike: magnitude bits
        // zero), in one vectorised pass.
        let nonzeros = isHalf ? blaze_count_nonzero_halves(base + 2 * begin, end - begin)
                              : blaze_count_nonzero_floats(base + 4 * begin, end - begin)
        let half = isHalf
        // One parent per row (a conv's `[O, 1, 1, I]`): the CSR itself, read in place.
        var stored: SparseConstantRows.Stored?
        if perRow == 1, end > begin, let (indexBase, width) = indices.inPlace {
            stored = SparseConstantRows.Stored(rowStarts: starts, indices: indexBase, indexWidth: width,
                                               values: base, valuesAreHalf: half)
        }
        // The columns of a row alone (no values widened): r·last + index of each entry, in order.
        let columnsOnly: (Int, UnsafeMutablePointer<Int32>) -> Int = { o, columns in
            let first = Int(starts[o * perRow]), end = Int(starts[(o + 1) * perRow])
            for r in 0..<perRow {
                let q = o * perRow + r, begin = Int(starts[q])
                indices.write(begin..<Int(starts[q + 1]), plus: r * last, into: columns + (begin - first))
            }
            return end - first
        }
        return SparseConstantRows(count: rowCount, length: perRow * last, maxRowEntries: maxRow, nonzeroCount: nonzeros,
                                  storedCount: end - begin, stored: stored, columnReader: columnsOnly) { o, columns, values in
            let first = Int(starts[o * perRow]), end = Int(starts[(o + 1) * perRow])
            // A row's entries are one contiguous run of the stored values; its columns as above.
            if half { widenHalves(from: base + 2 * first, to: values, count: end - first) }
            else { copyLittleEndianFloats(from: base + 4 * first, to: values, count: end - first) }
            return columnsOnly(o, columns)
        }
    }
}

/// A sparse constant's stored entries, row by row along dim 0 (``Model/constantSparseRows(_:in:rowCount:)``).
public struct SparseConstantRows: @unchecked Sendable {
    /// Rows (dim 0: the output channels of a conv's OHWI weights).
    public let count: Int
    /// Floats per dense row.
    public let length: Int
    /// Most entries stored for one row.
    public let maxRowEntries: Int
    /// Stored entries that are not `±0`, over all rows.
    public let nonzeroCount: Int
    /// Stored entries over all rows (`±0` values included).
    public let storedCount: Int
    /// The rows as the file stores them, when each row is one segment of the CSR level (a conv's
    /// `[O, 1, 1, I]` weights) on a little-endian host: read them in place instead of through
    /// ``read(row:columns:values:)``. Nil otherwise.
    public let stored: Stored?
    private let reader: (_ row: Int, _ columns: UnsafeMutablePointer<Int32>, _ values: UnsafeMutablePointer<Float>) -> Int
    private let columnReader: (_ row: Int, _ columns: UnsafeMutablePointer<Int32>) -> Int

    /// The CSR level of a sparse constant whose rows are its segments, in the model's storage:
    /// row `r`'s entries are positions `rowStarts[r] ..< rowStarts[r + 1]` of `indices` (their
    /// columns, strictly increasing below ``SparseConstantRows/length``) and `values`. Valid while
    /// the model is alive and its buffer data not released.
    public struct Stored: @unchecked Sendable {
        /// `[count + 1]`: the segments (`array_segments`), non-decreasing.
        public let rowStarts: [Int32]
        /// `array_indices`: little-endian integers of `indexWidth` bytes (1: UInt8, 2: UInt16,
        /// 4: Int32), aligned to their width.
        public let indices: UnsafeRawPointer
        /// Bytes per index: 1, 2 or 4.
        public let indexWidth: Int
        /// The stored values: little-endian IEEE binary16 (`valuesAreHalf`) or binary32, any alignment.
        public let values: UnsafeRawPointer
        /// Whether `values` are binary16.
        public let valuesAreHalf: Bool
    }

    init(count: Int, length: Int, maxRowEntries: Int, nonzeroCount: Int, storedCount: Int, stored: Stored?,
         columnReader: @escaping (Int, UnsafeMutablePointer<Int32>) -> Int,
         reader: @escaping (Int, UnsafeMutablePointer<Int32>, UnsafeMutablePointer<Float>) -> Int) {
        self.count = count; self.length = length; self.maxRowEntries = maxRowEntries; self.nonzeroCount = nonzeroCount
        self.storedCount = storedCount; self.stored = stored; self.columnReader = columnReader; self.reader = reader
    }

    /// As ``read(row:columns:values:)``, the columns alone (no value is read or widened); returns how many.
    public func readColumns(row: Int, columns: UnsafeMutablePointer<Int32>) -> Int {
        guard row >= 0, row < count else { return 0 }
        return columnReader(row, columns)
    }

    /// Writes the stored entries of `row` (in `0..<count`): their columns (strictly increasing, in
    /// `0..<length`) at `columns` and their float32 values (exactly as the dense tensor holds them;
    /// stored zeros included) at `values`, both with room for `maxRowEntries`; returns how many.
    /// Safe to call from several threads at once.
    public func read(row: Int, columns: UnsafeMutablePointer<Int32>, values: UnsafeMutablePointer<Float>) -> Int {
        guard row >= 0, row < count else { return 0 }
        return reader(row, columns, values)
    }
}
