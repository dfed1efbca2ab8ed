import BlazeSupport
import CBlazeTarget
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A `[n][k]` row-major float32 weight matrix as a packer reads it (a conv's OHWI weights seen as
/// `[O, KH·KW·I]`): either float32 values in memory, read in place, or a reader that writes any
/// range of rows on demand (e.g. widened from a model file's float16 data or densified from its
/// sparse form), so no float32 copy of the whole matrix is ever made.
public struct WeightRows {
    /// Rows (output channels).
    public let n: Int
    /// Floats per row.
    public let k: Int
    enum Source {
        /// `[n][k]` floats in memory.
        case values(UnsafePointer<Float>)
        /// Writes rows `first ..< first + count` as `[count][k]` floats at `into`.
        case reader((_ first: Int, _ count: Int, _ into: UnsafeMutablePointer<Float>) -> Void)
    }
    let source: Source
    /// The same `[n][k]` values as binary16 (little-endian, any alignment) when the reader widens
    /// them from there: binary16 panels are then packed from these without widening.
    let halves: UnsafeRawPointer?

    /// Rows read in place from `values` (`[n][k]` floats, valid while the packer runs).
    public init(n: Int, k: Int, values: UnsafePointer<Float>) {
        self.n = n; self.k = k; source = .values(values); halves = nil
    }

    /// Rows written on demand by `reader(first, count, into)`: rows `first ..< first + count` as
    /// `[count][k]` floats at `into`. It may be called from several threads at once (for
    /// disjoint rows, into disjoint memory) and must not fail: check the data before.
    ///
    /// `halves`, when given, holds the same rows as `[n][k]` little-endian binary16 values (any
    /// alignment, valid while the packer runs) and `reader` writes them widened exactly (e.g.
    /// `widenHalves`): a packer of binary16 panels reads them there instead.
    public init(n: Int, k: Int, halves: UnsafeRawPointer? = nil,
                reader: @escaping (_ first: Int, _ count: Int, _ into: UnsafeMutablePointer<Float>) -> Void) {
        self.n = n; self.k = k; source = .reader(reader); self.halves = halves
    }

    /// `values` as the rows of a weight tensor of shape `weightsShape` (`[O, …]`: O rows of the
    /// product of the other dimensions) when it holds exactly that many floats; otherwise as one
    /// row of all its floats, so that an operator's check `n == O, k == …` fails and reports
    /// `n·k == values.count`. The rows are copied out of the array when packed.
    init(_ values: [Float], weightsShape: [Int]) {
        let o = weightsShape.first ?? 0
        var product = 1, valid = true
        for d in weightsShape {
            let (p, overflow) = product.multipliedReportingOverflow(by: d)
            if overflow || d < 0 { valid = false; break }
            product = p
        }
        let (n, k) = valid && o > 0 && product == values.count ? (o, product / o) : (1, values.count)
        self.init(n: n, k: k) { first, count, into in
            values.withUnsafeBufferPointer { if let base = $0.baseAddress { into.update(from: base + first * k, count: count * k) } }
        }
    }

    /// Writes rows `first ..< first + count` as `[count][k]` floats at `into`.
    public func read(first: Int, count: Int, into: UnsafeMutablePointer<Float>) {
        switch source {
        case let .values(values): into.update(from: values + first * k, count: count * k)
        case let .reader(reader): reader(first, count, into)
        }
    }

    /// Every value, `[n][k]` row-major (for kernels that keep their own copy).
    public func array() -> [Float] {
        [Float](unsafeUninitializedCapacity: n * k) { buffer, initialized in
            if let base = buffer.baseAddress, n * k > 0 { read(first: 0, count: n, into: base) }
            initialized = n * k
        }
    }
}

/// A `[n][k]` row-major float32 weight matrix given by its stored entries, row by row: for a
/// mostly-zero matrix kept sparse in the model file (a DENSIFY'd tensor's CSR), so that a sparse
/// kernel is built from the entries without a dense `[n][k]` copy in between.
public struct SparseWeightRows {
    /// Rows (output channels).
    public let n: Int
    /// Columns (floats per dense row).
    public let k: Int
    /// Most entries any one row has (the size of the buffers `read` writes into).
    public let maxRowEntries: Int
    /// Entries that are not `±0` (of all rows).
    public let nonzeroCount: Int
    private let reader: (_ row: Int, _ columns: UnsafeMutablePointer<Int32>, _ values: UnsafeMutablePointer<Float>) -> Int
    /// Reads a row's columns alone (as `reader`, without values); only given when no entry is `±0`.
    let columnReader: ((_ row: Int, _ columns: UnsafeMutablePointer<Int32>) -> Int)?
    /// The same entries as a CSR in memory, read in place instead of through `reader` (only given
    /// when no entry is `±0`).
    public let stored: StoredSparseRows?

    /// `reader(row, columns, values)` writes the entries of `row` (in `0..<n`) — columns strictly
    /// increasing, each in `0..<k`, and their values (zeros allowed, they are skipped) — and returns
    /// how many (at most `maxRowEntries`). The dense row holds those values at those columns and
    /// `+0` elsewhere. It may be called from several threads at once and must not fail: check the
    /// data before. `nonzeroCount` counts the entries that are not `±0`.
    ///
    /// `columnsWhenAllNonzero(row, columns)`, when given, writes the same columns as `reader` (and
    /// returns the same count) without reading values: give it only when no entry is `±0`. Kernels
    /// then count a row's entries from its columns alone (no value widened twice).
    ///
    /// `storedWhenAllNonzero`, when given, holds the same entries (`rowStarts.count == n + 1`) as
    /// a CSR in memory: kernels then read it in place (no call per row, no staging copy), check
    /// it as they check `reader`'s rows, and stay in bounds even if its memory changes while they
    /// read it. Give it only when no entry is `±0`.
    public init(n: Int, k: Int, maxRowEntries: Int, nonzeroCount: Int,
                columnsWhenAllNonzero: ((_ row: Int, _ columns: UnsafeMutablePointer<Int32>) -> Int)? = nil,
                storedWhenAllNonzero: StoredSparseRows? = nil,
                reader: @escaping (_ row: Int, _ columns: UnsafeMutablePointer<Int32>, _ values: UnsafeMutablePointer<Float>) -> Int) {
        self.n = n; self.k = k; self.maxRowEntries = maxRowEntries; self.nonzeroCount = nonzeroCount; self.reader = reader
        self.columnReader = columnsWhenAllNonzero
        self.stored = storedWhenAllNonzero
    }

    /// The nonzero entries of dense `[n][k]` `values` (every `±0` dropped) when it holds `n·k`
    /// floats; otherwise one row of all its floats, so that an operator's check `n == O, k == I`
    /// fails (as ``WeightRows`` does).
    public init(n rowCount: Int, k rowLength: Int, dense values: [Float]) {
        let product = rowCount.multipliedReportingOverflow(by: rowLength)
        let valid = rowCount >= 0 && rowLength >= 0 && !product.overflow && product.partialValue == values.count
        let n = valid ? rowCount : 1, k = valid ? rowLength : values.count
        let nonzeros = values.withUnsafeBufferPointer { wp in
            var count = 0
            for w in wp { count &+= isNonzero(w) }
            return count
        }
        self.init(n: n, k: k, maxRowEntries: k, nonzeroCount: nonzeros) { row, columns, out in
            values.withUnsafeBufferPointer { wp in
                guard let base = wp.baseAddress else { return 0 }
                // Branch-free compaction: every column written, kept only when its weight is nonzero.
                let src = base + row * k
                var at = 0
                for c in 0..<k {
                    let w = src[c]
                    columns[at] = Int32(truncatingIfNeeded: c)
                    out[at] = w
                    at &+= isNonzero(w)
                }
                return at
            }
        }
    }

    /// Writes the entries of `row` at `columns` and `values` (`maxRowEntries` each) and returns their count.
    public func read(row: Int, columns: UnsafeMutablePointer<Int32>, values: UnsafeMutablePointer<Float>) -> Int {
        reader(row, columns, values)
    }
}

/// The entries of a row-major `[n][k]` weight matrix as a compressed sparse row (CSR) array in
/// memory, read in place (e.g. a DENSIFY'd tensor in a model file: its last level's
/// `array_indices` at their stored width and its float16 or float32 values): row `r`'s entries are
/// positions `rowStarts[r] ..< rowStarts[r + 1]` of `indices` (their columns) and `values`. The
/// memory is the caller's: it must stay mapped, with at least `rowStarts.last` entries, while a
/// kernel is built from it. Kernels check the rows (starts that do not decrease, columns that
/// strictly increase below `k`) and stay in bounds for any contents.
public struct StoredSparseRows: @unchecked Sendable {
    /// `[n + 1]`: where each row's entries start (and the last row's end), positions in `indices` and `values`.
    public let rowStarts: [Int32]
    /// The columns: little-endian (the host's order) integers of `indexWidth` bytes — 1: UInt8,
    /// 2: UInt16, 4: Int32 — aligned to their width.
    public let indices: UnsafeRawPointer
    /// Bytes per index: 1, 2 or 4.
    public let indexWidth: Int
    /// The values: little-endian IEEE binary16 (`valuesAreHalf`, widened exactly) or binary32, any alignment.
    public let values: UnsafeRawPointer
    /// Whether `values` are binary16.
    public let valuesAreHalf: Bool

    /// Nil when `indexWidth` is not 1, 2 or 4.
    public init?(rowStarts: [Int32], indices: UnsafeRawPointer, indexWidth: Int, values: UnsafeRawPointer, valuesAreHalf: Bool) {
        guard indexWidth == 1 || indexWidth == 2 || indexWidth == 4 else { return nil }
        self.rowStarts = rowStarts; self.indices = indices; self.indexWidth = indexWidth
        self.values = values; self.valuesAreHalf = valuesAreHalf
    }
}

/// What a piece of a ``WeightStore`` holds, as a packed-weight cache records it (the raw values
/// are stored in cache files: never renumber them).
public enum WeightPieceKind: UInt32, Sendable, CaseIterable {
    /// A dense conv's float32 GEMM panels (`PackedGemmWeights.data`).
    case floatPanels = 1
    /// A dense conv's binary16 GEMM panels (`PackedGemmWeights.halfData`).
    case halfPanels = 2
    /// The `[N][K]` matrix the OpenBLAS backend reads.
    case blasMatrix = 3
    /// A depthwise conv's taps, bias, fused PRELU alpha and 8-channel block taps.
    case depthwiseTaps = 4, depthwiseBias = 5, depthwiseAlpha = 6, depthwiseBlocks = 7
    /// A sparse 1×1 conv's nonzero count, row starts, 16-bit offsets and values.
    case sparseCount = 8, sparseRowStarts = 9, sparseOffsets = 10, sparseValues = 11
    /// A sparse 1×1 conv's values as binary16 bits (in place of `sparseValues`).
    case sparseHalfValues = 12
}

/// Where a model's prepacked weights live while it loads and runs: memory taken from the system
/// in large chunks (2 MiB-aligned and, on Linux, backed by transparent huge pages where the
/// kernel allows), handed out in 64-byte-aligned pieces, and a per-thread staging area for the
/// rows being packed. One interpreter's packed weights share a store; it is freed when the last
/// of them is.
///
/// Why not one allocation per layer: ~60 layers of fresh 4 KiB pages cost ~6,000 page faults per
/// model (each zeroes and maps one page), about as long as the packing itself; huge pages take a
/// few. The unused tail of a chunk is handed back to the system (`trim()`), so resident memory is
/// what the weights need, rounded to 4 KiB.
public final class WeightStore: @unchecked Sendable {
    /// One piece as the packed-weight cache records it: what it holds, where, and its bytes (a
    /// multiple of 64).
    public struct Piece {
        public let kind: WeightPieceKind
        public let pointer: UnsafeRawPointer
        public let bytes: Int

        public init(kind: WeightPieceKind, pointer: UnsafeRawPointer, bytes: Int) {
            self.kind = kind; self.pointer = pointer; self.bytes = bytes
        }
    }

    /// Every piece handed out and kept, in order (pieces handed back are dropped): what a
    /// packed-weight cache file stores, and what a replay hands out again in the same order.
    public private(set) var journal: [Piece] = []
    /// A cache's pieces to hand out instead of fresh memory (``init(pool:replaying:)``), the next
    /// at `replayCursor`; nil when not replaying.
    private let replayPieces: [Piece]?
    private var replayCursor = 0
    /// Keeps the memory `replayPieces` point into alive (e.g. a file mapping), released with the store.
    private let replayOwner: AnyObject?
    /// Bytes of the pieces handed out from the replayed cache.
    private var replayedBytes = 0
    /// True once a packer asked for a piece other than the replay's next one: from then on every
    /// piece is fresh memory that its packer fills (the pieces replayed before stay valid, as they
    /// hold what the packers would have written).
    public private(set) var replayDiverged = false

    private var chunks: [(base: UnsafeMutableRawPointer, size: Int, mapped: Bool)] = []
    /// Bytes used in the last chunk.
    private var used = 0
    /// Bytes used in the chunks before the last.
    private var usedBefore = 0
    /// Bytes of the last chunk faulted in (a multiple of 2 MiB, or its size).
    private var populated = 0
    /// Staging rows for the packers, one slice per worker (`[threads][stagingFloats]`).
    private var staging: UnsafeMutablePointer<Float>?
    private var stagingFloats = 0
    private var stagingThreads = 0
    /// Worker threads that pack the panels of one layer in parallel (nil: the calling thread only;
    /// dropped by ``finish()``).
    public private(set) var pool: ThreadPool?

    static let hugePage = 2 << 20
    /// Granularity of faulting in a chunk in 4 KiB pages.
    static let populateStep = 64 << 10
    static let minimumChunk = 4 << 20
    static let pageSize = max(4096, Int(sysconf(Int32(_SC_PAGESIZE))))

    /// A store whose packers spread each layer's panels over `pool` (results do not depend on it).
    public init(pool: ThreadPool? = nil) {
        self.pool = pool
        replayPieces = nil
        replayOwner = nil
    }

    /// A store that hands out `pieces` (a packed-weight cache's, in the order they were recorded)
    /// instead of packing: each packer that asks for the next piece's kind and size gets it
    /// already filled (``allocate(_:floats:)`` says `cached`). `owner` keeps their memory alive.
    /// A packer that asks for anything else gets fresh memory and the replay stops
    /// (``replayDiverged``).
    public init(pool: ThreadPool? = nil, replaying pieces: [Piece], owner: AnyObject) {
        self.pool = pool
        replayPieces = pieces
        replayOwner = owner
    }

    /// Whether every piece of the replayed cache was handed out and nothing else was asked for:
    /// the packers read no weight.
    public var replayedEverything: Bool {
        guard let replayPieces else { return false }
        return !replayDiverged && replayCursor == replayPieces.count
    }

    /// The kind of the replayed cache's next piece; nil when not replaying (or nothing is left).
    private var replayNext: WeightPieceKind? {
        guard let replayPieces, !replayDiverged, replayCursor < replayPieces.count else { return nil }
        return replayPieces[replayCursor].kind
    }

    /// Whether this store replays a cache and its next piece is not `kind`: a packer with a
    /// choice (binary16 panels, which it can give up on) then knows the recorded load did not keep
    /// that kind here, and goes straight to the other.
    func replaySkips(_ kind: WeightPieceKind) -> Bool { replayNext.map { $0 != kind } ?? false }

    /// Whether this store replays a cache whose next piece is `kind`.
    func replayOffers(_ kind: WeightPieceKind) -> Bool { replayNext == kind }

    /// A piece of `count` floats holding `kind`, 64-byte aligned, valid for the store's life:
    /// the replayed cache's next piece when it is that kind and size (`cached`: already filled,
    /// read-only), else fresh memory the packer fills (contents unspecified). Recorded in
    /// ``journal``.
    func allocate(_ kind: WeightPieceKind, floats count: Int) -> (pointer: UnsafeMutablePointer<Float>, cached: Bool) {
        let bytes = (Swift.max(1, count) * MemoryLayout<Float>.stride + 63) & ~63
        if let replayPieces, !replayDiverged {
            if replayCursor < replayPieces.count, replayPieces[replayCursor].kind == kind, replayPieces[replayCursor].bytes == bytes {
                let piece = replayPieces[replayCursor]
                replayCursor += 1
                replayedBytes += bytes
                journal.append(piece)
                return (UnsafeMutablePointer(mutating: piece.pointer.assumingMemoryBound(to: Float.self)), true)
            }
            replayDiverged = true
        }
        let pointer = allocate(floats: count)
        journal.append(Piece(kind: kind, pointer: UnsafeRawPointer(pointer), bytes: bytes))
        return (pointer, false)
    }

    deinit {
        for chunk in chunks {
            if chunk.mapped { munmap(chunk.base, chunk.size) } else { chunk.base.deallocate() }
        }
        staging?.deallocate()
    }

    /// Bytes of the pieces handed out and kept (each rounded up to 64 bytes): the packed weights'
    /// memory, without the chunks' unused tails.
    public var bytesInUse: Int { usedBefore + used + replayedBytes }

    /// `count` floats, 64-byte aligned, valid for the store's life. Contents are unspecified: the
    /// packer writes every one.
    private func allocate(floats count: Int) -> UnsafeMutablePointer<Float> {
        let bytes = (Swift.max(1, count) * MemoryLayout<Float>.stride + 63) & ~63
        if let last = chunks.last, used + bytes <= last.size {
            faultIn(upTo: used + bytes)
            defer { used += bytes }
            return (last.base + used).assumingMemoryBound(to: Float.self)
        }
        trim()
        let size = Swift.max(Self.minimumChunk, (bytes + Self.hugePage - 1) / Self.hugePage * Self.hugePage)
        chunks.append(Self.mapChunk(size))
        usedBefore += used
        used = bytes
        populated = 0
        faultIn(upTo: bytes)
        return chunks[chunks.count - 1].base.assumingMemoryBound(to: Float.self)
    }

    /// Hands back `pointer`, `count` floats, when it is the last piece handed out (its packer gave
    /// up on it; the next piece reuses the memory). Any other piece stays allocated until the store
    /// is freed.
    func handBack(_ pointer: UnsafeMutablePointer<Float>, floats count: Int) {
        let bytes = (Swift.max(1, count) * MemoryLayout<Float>.stride + 63) & ~63
        guard let last = chunks.last, used >= bytes, UnsafeMutableRawPointer(pointer) == last.base + (used - bytes) else { return }
        used -= bytes
        if journal.last?.pointer == UnsafeRawPointer(pointer) { journal.removeLast() }
    }

    /// Faults in the last chunk up to `end` bytes before the packers write there
    /// (``HugePages/populate(_:_:)``): rounded up to the next 2 MiB boundary while huge pages are
    /// fast, else to the next 64 KiB (in 4 KiB pages, the 2 MiB rounding faulted in up to 2 MiB
    /// that no weight used: 0.3–0.7 MB per model).
    private func faultIn(upTo end: Int) {
        guard let last = chunks.last, last.mapped, end > populated else { return }
        let step = HugePages.useHugePages ? Self.hugePage : Self.populateStep
        let target = Swift.min(last.size, (end + step - 1) / step * step)
        _ = HugePages.populate(last.base + populated, target - populated)
        populated = target
    }

    /// Hands the untouched tail of the current chunk (whole pages past the last piece) back to the
    /// system; call when no more weights will be packed (the store still works after it).
    public func trim() {
        #if os(Linux)
        guard let last = chunks.last, last.mapped else { return }
        let start = (used + Self.pageSize - 1) / Self.pageSize * Self.pageSize
        if start < last.size { _ = madvise(last.base + start, last.size - start, Int32(MADV_DONTNEED)) }
        #endif
    }

    /// `size` bytes (a multiple of 2 MiB), 2 MiB-aligned where the system gives it, marked for huge pages.
    private static func mapChunk(_ size: Int) -> (base: UnsafeMutableRawPointer, size: Int, mapped: Bool) {
        #if os(Linux)
        // Over-map by one huge page and cut the ends, so the chunk starts on a 2 MiB boundary.
        let span = size + hugePage
        if let raw = mmap(nil, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), raw != MAP_FAILED {
            let address = Int(bitPattern: raw)
            let aligned = (address + hugePage - 1) / hugePage * hugePage
            let head = aligned - address, tail = span - head - size
            if head > 0 { munmap(raw, head) }
            if tail > 0 { munmap(UnsafeMutableRawPointer(bitPattern: aligned + size), tail) }
            // (`aligned` lies inside the mapping `raw` starts, so it is not null.)
            if let base = UnsafeMutableRawPointer(bitPattern: aligned) {
                HugePages.advise(base, size)
                return (base, size, true)
            }
        }
        #endif
        return (UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64), size, false)
    }

    /// Staging for `threads` workers of `floats` floats each (reused from layer to layer).
    func staging(floats: Int, threads: Int) -> UnsafeMutablePointer<Float> {
        if let staging, floats <= stagingFloats, threads <= stagingThreads { return staging }
        staging?.deallocate()
        stagingFloats = Swift.max(floats, stagingFloats)
        stagingThreads = Swift.max(threads, stagingThreads)
        let rows = UnsafeMutablePointer<Float>.allocate(capacity: Swift.max(1, stagingFloats * stagingThreads))
        staging = rows
        return rows
    }

    /// Call once every layer is packed: frees the staging rows, hands back the unused tail of the
    /// last chunk (``trim()``) and drops the pool. Packing more afterwards still works (serially).
    public func finish() {
        staging?.deallocate()
        staging = nil
        stagingFloats = 0
        stagingThreads = 0
        trim()
        pool = nil
    }
}

/// Writes the panel of `columns` weight rows `src` (`[columns][k]`, row-major) into `dst`
/// (`[k][width]`: for every k the `width` values of the panel's columns, zero past `columns`).
/// Blocks of 8 columns × 8 k go through CBlazeTarget's `blaze_transpose8x8` (8 row loads, 16
/// shuffles, then 8 vector stores into 8 destination rows); leftover columns take eight
/// contiguous floats of their row to eight destination rows one float at a time. Pure data
/// movement: the same floats whichever way.
@inline(__always)
func transposePanel(_ src: UnsafePointer<Float>, k: Int, columns: Int, width: Int, into dst: UnsafeMutablePointer<Float>) {
    if columns < width {
        for kk in 0..<k {
            let row = dst + kk * width
            for lane in columns..<width { row[lane] = 0 }
        }
    }
    let blockedColumns = columns / 8 * 8
    withUnsafeTemporaryAllocation(of: Float.self, capacity: 64) { buffer in
        guard let block = buffer.baseAddress else { return }
        var k0 = 0
        while k0 + 8 <= k {
            var lane0 = 0
            while lane0 < blockedColumns {
                // block[8i + r] = src[(lane0 + r)·k + k0 + i], which goes to dst[(k0 + i)·width + lane0 + r].
                blaze_transpose8x8(src + lane0 * k + k0, k, block)
                for i in 0..<8 {
                    let v = UnsafeRawPointer(block + 8 * i).loadUnaligned(as: SIMD8<Float>.self)
                    UnsafeMutableRawPointer(dst + (k0 + i) * width + lane0).storeBytes(of: v, as: SIMD8<Float>.self)
                }
                lane0 += 8
            }
            for lane in blockedColumns..<columns {
                let v = UnsafeRawPointer(src + lane * k + k0).loadUnaligned(as: SIMD8<Float>.self)
                let d = dst + k0 * width + lane
                d[0] = v[0]; d[width] = v[1]; d[2 * width] = v[2]; d[3 * width] = v[3]
                d[4 * width] = v[4]; d[5 * width] = v[5]; d[6 * width] = v[6]; d[7 * width] = v[7]
            }
            k0 += 8
        }
        while k0 < k {
            for lane in 0..<columns { dst[k0 * width + lane] = src[lane * k + k0] }
            k0 += 1
        }
    }
}
